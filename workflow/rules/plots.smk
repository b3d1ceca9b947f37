# One job per figure, so the report can label each by its wildcards.
rule plot_training_label_modes:
    input:
        table=f"{R}/tables/training.csv",
        info=f"{R}/data/dataset.json",
    output:
        report(
            f"{R}/figures/training_{{checkpoint}}_label_modes.png",
            caption="../report/training_label_modes.rst",
            category="1. Training",
            subcategory="label modes compared",
            labels={"figure": "label modes at {checkpoint}"},
        ),
    log:
        f"{R}/logs/plot_training/{{checkpoint}}.log",
    localrule: True
    conda:
        LIGHT_ENV
    params:
        select="checkpoint",
        series="label_mode",
        order=LABEL_MODES,
        axes=varying_axes(config),
        target=config["train"]["target_loss"],
        code=code_version("plot_training.py"),
    script:
        script_path("plot_training.py")


rule plot_training_checkpoints:
    input:
        table=f"{R}/tables/training.csv",
        info=f"{R}/data/dataset.json",
    output:
        report(
            f"{R}/figures/training_{{label_mode}}_checkpoints.png",
            caption="../report/training_checkpoints.rst",
            category="1. Training",
            subcategory="checkpoints compared",
            labels={"figure": "{label_mode} labels: every checkpoint"},
        ),
    log:
        f"{R}/logs/plot_training/{{label_mode}}.log",
    localrule: True
    conda:
        LIGHT_ENV
    params:
        select="label_mode",
        series="checkpoint",
        order=list(CHECKPOINTS),
        axes=varying_axes(config),
        target=config["train"]["target_loss"],
        code=code_version("plot_training.py"),
    script:
        script_path("plot_training.py")


rule plot_measures:
    input:
        f"{R}/tables/measures.csv",
    output:
        report(
            f"{R}/figures/measures_{{family}}.png",
            caption="../report/measures_family.rst",
            category="2. Complexity measures",
            labels={"family": "{family}"},
        ),
    log:
        f"{R}/logs/plot_measures/{{family}}.log",
    localrule: True
    conda:
        LIGHT_ENV
    params:
        label_modes=LABEL_MODES,
        axes=varying_axes(config),
        target=config["train"]["target_loss"],
        code=code_version("plot_measures.py"),
    script:
        script_path("plot_measures.py")


rule plot_hessian_density:
    input:
        lambda w: [f"{MEASURED}/loss0_density.npz".format(**r.wildcards) for r in RUNS if r.size == max(SIZES)],
    output:
        report(
            f"{R}/figures/hessian_density.png",
            caption="../report/hessian_density.rst",
            category="2. Complexity measures",
            labels={"family": "Hessian spectrum"},
        ),
    log:
        f"{R}/logs/plot_hessian_density.log",
    localrule: True
    conda:
        LIGHT_ENV
    params:
        runs=[r.wildcards for r in RUNS if r.size == max(SIZES)],
        size=max(SIZES),
        code=code_version("plot_hessian_density.py"),
    script:
        script_path("plot_hessian_density.py")


rule plot_ranking:
    input:
        tau=f"{R}/tables/rank_correlation.csv",
        psi=f"{R}/tables/granulated_kendall.csv",
        intervals=f"{R}/tables/ranking_intervals.csv",
    output:
        report(
            f"{R}/figures/ranking.png",
            caption="../report/ranking.rst",
            category="3. Which measure tracks generalization",
            labels={"figure": "τ, ψ and CMI of every measure"},
        ),
    log:
        f"{R}/logs/plot_ranking.log",
    localrule: True
    conda:
        LIGHT_ENV
    params:
        code=code_version("plot_ranking.py"),
    script:
        script_path("plot_ranking.py")


rule plot_against_axis:
    input:
        table=f"{R}/tables/measures.csv",
        info=f"{R}/data/dataset.json",
    output:
        [
            report(
                f"{R}/figures/against_{{axis}}_{family}.png",
                caption="../report/against_axis.rst",
                category="1. Training",
                subcategory="against the study's axes",
                labels={"figure": f"test error and {family} measures against {{axis}}"},
            )
            for family in PLOTTED_FAMILIES
        ],
    log:
        f"{R}/logs/plot_against_axis/{{axis}}.log",
    localrule: True
    conda:
        LIGHT_ENV
    params:
        families=PLOTTED_FAMILIES,
        axes=varying_axes(config),
        target=config["train"]["target_loss"],
        code=code_version("plot_against_axis.py"),
    script:
        script_path("plot_against_axis.py")


rule plot_original_comparison:
    input:
        table=f"{R}/tables/training.csv",
        published=workflow.source_path("../resources/original_published.csv"),
    output:
        report(
            f"{R}/figures/original_comparison.png",
            caption="../report/original_comparison.rst",
            category="1. Training",
            subcategory="the original experiment",
            labels={"figure": "published arrays vs carry_optimizer vs independent"},
        ),
    log:
        f"{R}/logs/plot_original_comparison.log",
    localrule: True
    conda:
        LIGHT_ENV
    params:
        target=config["train"]["target_loss"],
        dataset=config["dataset"],
        code=code_version("plot_original_comparison.py"),
    script:
        script_path("plot_original_comparison.py")


rule plot_sign_error:
    input:
        f"{R}/tables/robust_sign_error_environments.csv",
    output:
        report(
            f"{R}/figures/robust_sign_error.png",
            caption="../report/robust_sign_error.rst",
            category="3. Which measure tracks generalization",
            labels={"figure": "distribution of the sign error over environments"},
        ),
    log:
        f"{R}/logs/plot_sign_error.log",
    localrule: True
    conda:
        LIGHT_ENV
    params:
        min_ess=config["ranking"]["sign_error_min_ess"],
        code=code_version("plot_sign_error.py"),
    script:
        script_path("plot_sign_error.py")
