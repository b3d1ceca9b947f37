# One job per run measures its three checkpoints: they share the run's subset, and with it
# the compiled loss and Hessian-vector products.
rule measures:
    input:
        **{c: f"{RUN}/{c}.npz" for c in CHECKPOINTS},
        subset=SUBSET,
        history=f"{RUN}/history.csv",
        summary=f"{RUN}/summary.json",
        init=INIT,
        test=f"{R}/data/test.npz",
    output:
        **{c: f"{MEASURED}/{c}.json" for c in CHECKPOINTS},
        **{f"{c}_density": f"{MEASURED}/{c}_density.npz" for c in CHECKPOINTS},
    log:
        f"{R}/logs/measures/{AXES}/n{{size}}/seed{{seed}}.log",
    benchmark:
        f"{R}/benchmarks/measures/{AXES}/n{{size}}/seed{{seed}}.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=job_resource("measures", "mem_mb"),
        runtime=job_resource("measures", "runtime"),
    params:
        settings=config["measures"],
        study=STUDY,
        code=code_version("measures.py"),
    script:
        script_path("measures.py")
