# One job per run: the wildcards are every axis, the size, the seed and the label mode, so a
# study grows by its new runs only and a cluster trains all of its runs at once. Under
# carry_optimizer a run starts from the Adam state of the next larger size: an edge between
# two train jobs.
rule train:
    input:
        unpack(carried_optimizer),
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
        settings={k: config["train"][k] for k in TRAIN_SETTINGS},
        study=STUDY,
        # The resumable state lives outside the outputs, so a killed job's rerun finds it.
        state=f"{R}/resume/{AXES}/n{{size}}/seed{{seed}}.npz",
        code=code_version("train.py"),
    script:
        script_path("train.py")
