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
