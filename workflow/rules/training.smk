# One job per (label mode, architecture, batch size, protocol, seed) trains every learning rate
# and size (TRAIN_RUNS): TensorFlow's start-up is paid once for all of them, and the runs with
# the same shapes share one compiled loop. Files stay per run.
rule train:
    input:
        subsets=train_job_files(SUBSET),
        init=INIT,
        test=f"{R}/data/test.npz",
    output:
        **{name.split(".")[0]: train_job_outputs(f"{RUN}/{name}") for name in TRAIN_FILES},
    log:
        f"{R}/logs/train/{TRAIN_JOB}/seed{{seed}}.log",
    benchmark:
        f"{R}/benchmarks/train/{TRAIN_JOB}/seed{{seed}}.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=job_resource("train", "mem_mb"),
        runtime=job_resource("train", "runtime"),
    params:
        settings={k: config["train"][k] for k in ("max_epochs", "target_loss", "chunk_epochs")},
        runs=TRAIN_RUNS,
        # Resumable states live outside the outputs, so a killed job's rerun finds them.
        states=train_job_files(f"{R}/resume/{AXES}/n{{size}}/seed{{seed}}.npz"),
        code=code_version("train.py"),
    script:
        "../scripts/train.py"
