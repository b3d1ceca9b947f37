# One job per (label mode, axes, seed) measures every size and checkpoint: the TensorFlow
# start-up is paid once for all of them. Files stay per run and checkpoint.
rule measures:
    input:
        **{c: run_group_files(f"{RUN}/{c}.npz") for c in CHECKPOINTS},
        subsets=run_group_files(SUBSET),
        histories=run_group_files(f"{RUN}/history.csv"),
        summaries=run_group_files(f"{RUN}/summary.json"),
        init=INIT,
        test=f"{R}/data/test.npz",
    output:
        **{c: expand(f"{MEASURED}/{c}.json", size=SIZES, allow_missing=True) for c in CHECKPOINTS},
        **{f"{c}_density": expand(f"{MEASURED}/{c}_density.npz", size=SIZES, allow_missing=True) for c in CHECKPOINTS},
    log:
        f"{R}/logs/measures/{AXES}/seed{{seed}}.log",
    benchmark:
        f"{R}/benchmarks/measures/{AXES}/seed{{seed}}.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=job_resource("measures", "mem_mb"),
        runtime=job_resource("measures", "runtime"),
    params:
        settings=config["measures"],
        sizes=SIZES,
        code=code_version("measures.py"),
    script:
        "../scripts/measures.py"
