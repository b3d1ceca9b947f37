# One job per (label mode, seed) measures every size and both checkpoints: the
# TensorFlow start-up (~3 s) is paid once for 16 checkpoints instead of once each,
# which keeps start-up well under a third of the study's compute. Files stay per
# run and checkpoint.
rule measures:
    input:
        acc1=run_files("results/train/{label_mode}/n{size}/seed{seed}/acc1.npz"),
        loss0=run_files("results/train/{label_mode}/n{size}/seed{seed}/loss0.npz"),
        subsets=run_files("results/subsets/{label_mode}/seed{seed}/n{size}.npz"),
        init="results/init/seed{seed}.npz",
        test="results/data/test.npz",
    output:
        acc1=expand("results/measures/{{label_mode}}/n{size}/seed{{seed}}/acc1.json", size=SIZES),
        loss0=expand("results/measures/{{label_mode}}/n{size}/seed{{seed}}/loss0.json", size=SIZES),
        acc1_density=expand(
            "results/measures/{{label_mode}}/n{size}/seed{{seed}}/acc1_density.npz", size=SIZES
        ),
        loss0_density=expand(
            "results/measures/{{label_mode}}/n{size}/seed{{seed}}/loss0_density.npz", size=SIZES
        ),
    params:
        settings=config["measures"],
        sizes=SIZES,
    threads: 1
    resources:
        mem_mb=1500,
        runtime=20,
    log:
        "results/logs/measures/{label_mode}/seed{seed}.log",
    benchmark:
        "results/benchmarks/measures/{label_mode}/seed{seed}.tsv"
    conda:
        ENV
    script:
        "../scripts/measures.py"
