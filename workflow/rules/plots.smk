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


rule plot_measures:
    input:
        "results/tables/measures.csv",
    output:
        report(
            expand("results/figures/measures_{checkpoint}_label_modes.png", checkpoint=CHECKPOINTS),
            caption="../report/measures_label_modes.rst",
            category="Measures",
        ),
    params:
        checkpoints=CHECKPOINTS,
        label_modes=LABEL_MODES,
        top_k=config["measures"]["top_k"],
        depth=DEPTH,
    log:
        "results/logs/plot_measures.log",
    conda:
        ENV
    script:
        "../scripts/plot_measures.py"


rule plot_hessian_density:
    input:
        expand(
            "results/measures/{label_mode}/n{size}/seed{seed}/loss0_density.npz",
            label_mode=LABEL_MODES,
            size=max(SIZES),
            seed=SEEDS,
        ),
    output:
        report(
            "results/figures/hessian_density.png",
            caption="../report/hessian_density.rst",
            category="Measures",
        ),
    params:
        label_modes=LABEL_MODES,
        seeds=SEEDS,
        size=max(SIZES),
    log:
        "results/logs/plot_hessian_density.log",
    conda:
        ENV
    script:
        "../scripts/plot_hessian_density.py"
