rule train:
    input:
        subset="results/subsets/{label_mode}/seed{seed}/n{size}.npz",
        init="results/init/seed{seed}.npz",
        test="results/data/test.npz",
    output:
        acc1="results/train/{label_mode}/n{size}/seed{seed}/acc1.npz",
        loss0="results/train/{label_mode}/n{size}/seed{seed}/loss0.npz",
        final="results/train/{label_mode}/n{size}/seed{seed}/final.npz",
        history="results/train/{label_mode}/n{size}/seed{seed}/history.csv",
        summary="results/train/{label_mode}/n{size}/seed{seed}/summary.json",
    params:
        settings=config["train"],
        # Resumable state lives outside the outputs, so a killed job's rerun finds it.
        state="results/resume/{label_mode}/n{size}/seed{seed}.npz",
    threads: 1
    resources:
        mem_mb=1500,
        runtime=30,
    log:
        "results/logs/train/{label_mode}/n{size}/seed{seed}.log",
    benchmark:
        "results/benchmarks/train/{label_mode}/n{size}/seed{seed}.tsv"
    conda:
        ENV
    script:
        "../scripts/train.py"
