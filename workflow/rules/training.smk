rule train:
    input:
        unpack(carried_optimizer),  # carry_optimizer: the state the next larger size ended with
        subset=SUBSET,
        init=INIT,
        test=f"{R}/data/test.npz",
    output:
        **{name.split(".")[0]: f"{RUN}/{name}" for name in TRAIN_FILES},
    log:
        f"{R}/logs/train/{AXES}/n{{size}}/seed{{seed}}.log",
    benchmark:
        f"{R}/benchmarks/train/{AXES}/n{{size}}/seed{{seed}}.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=job_resource("train", "mem_mb"),
        runtime=job_resource("train", "runtime"),
    params:
        settings={k: config["train"][k] for k in ("max_epochs", "target_loss", "chunk_epochs")},
        # Resumable state lives outside the outputs, so a killed job's rerun finds it.
        state=f"{R}/resume/{AXES}/n{{size}}/seed{{seed}}.npz",
        code=code_version("train.py"),
    script:
        "../scripts/train.py"
