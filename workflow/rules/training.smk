# One job per (label mode, axes, seed) trains every size, as the measures rule measures them:
# TensorFlow's start-up is paid once for all of them. Files stay per run.
rule train:
    input:
        subsets=run_group_files(SUBSET),
        init=INIT,
        test=f"{R}/data/test.npz",
    output:
        **{name.split(".")[0]: expand(f"{RUN}/{name}", size=SIZES, allow_missing=True) for name in TRAIN_FILES},
    log:
        f"{R}/logs/train/{AXES}/seed{{seed}}.log",
    benchmark:
        f"{R}/benchmarks/train/{AXES}/seed{{seed}}.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=job_resource("train", "mem_mb"),
        runtime=job_resource("train", "runtime"),
    params:
        settings={k: config["train"][k] for k in ("max_epochs", "target_loss", "chunk_epochs")},
        sizes=SIZES,
        # Resumable states live outside the outputs, so a killed job's rerun finds them.
        states=run_group_files(f"{R}/resume/{AXES}/n{{size}}/seed{{seed}}.npz"),
        code=code_version("train.py"),
    script:
        "../scripts/train.py"
