# One job per training run computes both checkpoints, so TensorFlow is imported and
# the HVP graph traced once per run rather than once per checkpoint.
rule measures:
    input:
        acc1="results/train/{label_mode}/n{size}/seed{seed}/acc1.npz",
        loss0="results/train/{label_mode}/n{size}/seed{seed}/loss0.npz",
        summary="results/train/{label_mode}/n{size}/seed{seed}/summary.json",
        init="results/init/seed{seed}.npz",
        subset="results/subsets/{label_mode}/seed{seed}/n{size}.npz",
        test="results/data/test.npz",
    output:
        acc1="results/measures/{label_mode}/n{size}/seed{seed}/acc1.json",
        loss0="results/measures/{label_mode}/n{size}/seed{seed}/loss0.json",
        acc1_density="results/measures/{label_mode}/n{size}/seed{seed}/acc1_density.npz",
        loss0_density="results/measures/{label_mode}/n{size}/seed{seed}/loss0_density.npz",
    params:
        settings=config["measures"],
    threads: 1
    resources:
        mem_mb=1500,
        runtime=15,
    log:
        "results/logs/measures/{label_mode}/n{size}/seed{seed}.log",
    benchmark:
        "results/benchmarks/measures/{label_mode}/n{size}/seed{seed}.tsv"
    conda:
        ENV
    script:
        "../scripts/measures.py"
