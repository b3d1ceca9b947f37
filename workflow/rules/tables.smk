rule training_table:
    input:
        summaries=train_outputs("summary.json"),
        histories=train_outputs("history.csv"),
        acc1=train_outputs("acc1.npz"),
        loss0=train_outputs("loss0.npz"),
    output:
        report(
            "results/tables/training.csv",
            caption="../report/training_table.rst",
            category="Tables",
        ),
    log:
        "results/logs/training_table.log",
    conda:
        ENV
    script:
        "../scripts/training_table.py"


rule measures_table:
    input:
        training="results/tables/training.csv",
        measures=measure_jsons(),
    output:
        report(
            "results/tables/measures.csv",
            caption="../report/measures_table.rst",
            category="Tables",
        ),
    params:
        top_k=config["measures"]["top_k"],
        depth=DEPTH,
    log:
        "results/logs/measures_table.log",
    conda:
        ENV
    script:
        "../scripts/measures_table.py"


rule rank_correlation:
    input:
        "results/tables/measures.csv",
    output:
        table=report(
            "results/tables/rank_correlation.csv",
            caption="../report/rank_correlation_table.rst",
            category="Tables",
        ),
        figure=report(
            "results/figures/rank_correlation.png",
            caption="../report/rank_correlation.rst",
            category="Which measure tracks generalization",
        ),
    params:
        top_k=config["measures"]["top_k"],
        depth=DEPTH,
    log:
        "results/logs/rank_correlation.log",
    conda:
        ENV
    script:
        "../scripts/rank_correlation.py"
