# Each table is written as CSV (for tools) and as an HTML page that the report shows inline.
rule training_table:
    input:
        summaries=for_runs(f"{RUN}/summary.json"),
        histories=for_runs(f"{RUN}/history.csv"),
        checkpoints=[p for c in CHECKPOINTS for p in for_runs(f"{RUN}/{c}.npz")],
        info=f"{R}/data/dataset.json",
    output:
        csv=f"{R}/tables/training.csv",
        html=report(
            f"{R}/tables/training.html",
            caption="../report/training_table.rst",
            category="4. Tables",
            labels={"table": "training runs"},
        ),
    log:
        f"{R}/logs/training_table.log",
    localrule: True
    conda:
        LIGHT_ENV
    params:
        study=STUDY,
        runs=[r.wildcards for r in RUNS],  # in the order of the inputs
        code=code_version("training_table.py"),
    script:
        script_path("training_table.py")


rule measures_table:
    input:
        training=f"{R}/tables/training.csv",
        measures=[p for c in CHECKPOINTS for p in for_runs(f"{MEASURED}/{c}.json")],
    output:
        csv=f"{R}/tables/measures.csv",
        html=report(
            f"{R}/tables/measures.html",
            caption="../report/measures_table.rst",
            category="4. Tables",
            labels={"table": "complexity measures"},
        ),
    log:
        f"{R}/logs/measures_table.log",
    localrule: True
    conda:
        LIGHT_ENV
    params:
        study=STUDY,
        runs=[r.wildcards for r in RUNS],  # in the order of each checkpoint's inputs
        code=code_version("measures_table.py"),
    script:
        script_path("measures_table.py")


rule ranking:
    input:
        f"{R}/tables/measures.csv",
    output:
        tau=f"{R}/tables/rank_correlation.csv",
        psi=f"{R}/tables/granulated_kendall.csv",
        tau_html=report(
            f"{R}/tables/rank_correlation.html",
            caption="../report/rank_correlation_table.rst",
            category="4. Tables",
            labels={"table": "Kendall τ per scope"},
        ),
        psi_html=report(
            f"{R}/tables/granulated_kendall.html",
            caption="../report/granulated_kendall_table.rst",
            category="4. Tables",
            labels={"table": "granulated Kendall ψ, Ψ and CMI"},
        ),
    log:
        f"{R}/logs/ranking.log",
    localrule: True
    conda:
        LIGHT_ENV
    params:
        axes=varying_axes(config),
        code=code_version("ranking.py"),
    script:
        script_path("ranking.py")


rule ranking_intervals:
    input:
        f"{R}/tables/measures.csv",
    output:
        intervals=f"{R}/tables/ranking_intervals.csv",
        differences=f"{R}/tables/paired_differences.csv",
        intervals_html=report(
            f"{R}/tables/ranking_intervals.html",
            caption="../report/ranking_intervals_table.rst",
            category="4. Tables",
            labels={"table": "criteria with seed-bootstrap intervals"},
        ),
        differences_html=report(
            f"{R}/tables/paired_differences.html",
            caption="../report/paired_differences_table.rst",
            category="4. Tables",
            labels={"table": "measure minus baseline, with intervals"},
        ),
    log:
        f"{R}/logs/ranking_intervals.log",
    benchmark:
        f"{R}/benchmarks/ranking_intervals.tsv"
    localrule: True
    conda:
        LIGHT_ENV
    params:
        axes=varying_axes(config),
        settings=config["ranking"],
        code=code_version("ranking_intervals.py"),
    script:
        script_path("ranking_intervals.py")


rule robust_sign_error:
    input:
        f"{R}/tables/measures.csv",
    output:
        summary=f"{R}/tables/robust_sign_error.csv",
        environments=f"{R}/tables/robust_sign_error_environments.csv",
        html=report(
            f"{R}/tables/robust_sign_error.html",
            caption="../report/robust_sign_error_table.rst",
            category="4. Tables",
            labels={"table": "robust sign error over environments"},
        ),
    log:
        f"{R}/logs/robust_sign_error.log",
    localrule: True
    conda:
        LIGHT_ENV
    params:
        axes=varying_axes(config),
        test_size=config["test_size"],
        weight_threshold=config["ranking"]["sign_error_weight_threshold"],
        min_ess=config["ranking"]["sign_error_min_ess"],
        code=code_version("robust_sign_error.py"),
    script:
        script_path("robust_sign_error.py")


rule findings:
    input:
        intervals=f"{R}/tables/ranking_intervals.csv",
        differences=f"{R}/tables/paired_differences.csv",
        sign_error=f"{R}/tables/robust_sign_error.csv",
        measures=f"{R}/tables/measures.csv",
    output:
        f"{R}/findings.md",
    log:
        f"{R}/logs/findings.log",
    localrule: True
    conda:
        LIGHT_ENV
    params:
        study=STUDY,
        config=config,
        repository=checkout(),
        code=code_version("findings.py"),
    script:
        script_path("findings.py")
