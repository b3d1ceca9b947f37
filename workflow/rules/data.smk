rule prepare_data:
    output:
        pool="results/data/pool.npz",
        test="results/data/test.npz",
        info="results/data/dataset.json",
    params:
        dataset=config["dataset"],
        test_size=config["test_size"],
        seed=config["data_seed"],
    log:
        "results/logs/prepare_data.log",
    benchmark:
        "results/benchmarks/prepare_data.tsv"
    conda:
        ENV
    script:
        "../scripts/prepare_data.py"


# One job per (label mode, seed) writes every size: the subsets are prefixes of one
# permutation, so a job per size would only repeat the same draw.
rule make_subsets:
    input:
        pool="results/data/pool.npz",
        info="results/data/dataset.json",
    output:
        expand("results/subsets/{{label_mode}}/seed{{seed}}/n{size}.npz", size=SIZES),
    params:
        sizes=SIZES,
    log:
        "results/logs/make_subsets/{label_mode}/seed{seed}.log",
    conda:
        ENV
    script:
        "../scripts/make_subsets.py"


rule init_weights:
    input:
        info="results/data/dataset.json",
    output:
        "results/init/seed{seed}.npz",
    params:
        hidden=config["model"]["hidden"],
    log:
        "results/logs/init_weights/seed{seed}.log",
    conda:
        ENV
    script:
        "../scripts/init_weights.py"
