rule plot_training:
    input:
        table="results/tables/training.csv",
    output:
        by_checkpoint=report(
            expand("results/figures/training_{checkpoint}_label_modes.png", checkpoint=CHECKPOINTS),
            caption="../report/training_label_modes.rst",
            category="Training",
        ),
        by_mode=report(
            expand("results/figures/training_{label_mode}_checkpoints.png", label_mode=LABEL_MODES),
            caption="../report/training_checkpoints.rst",
            category="Training",
        ),
    params:
        checkpoints=CHECKPOINTS,
        label_modes=LABEL_MODES,
    log:
        "results/logs/plot_training.log",
    conda:
        ENV
    script:
        "../scripts/plot_training.py"
