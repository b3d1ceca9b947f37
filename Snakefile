# Why do neural networks generalize? Train an MLP on correct and random labels over
# growing training sets and seeds, to two stopping points, and compare complexity measures.
from snakemake.utils import min_version, validate

min_version("9.20")


configfile: "config.yaml"


validate(config, "workflow/schemas/config.schema.yaml", set_default=True)


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/training.smk"
include: "workflow/rules/measures.smk"
include: "workflow/rules/tables.smk"
include: "workflow/rules/plots.smk"


# Cheap numpy/pandas steps run on the submitting host under a cluster executor;
# only train and measures become cluster jobs.
localrules:
    all,
    prepare_data,
    make_subsets,
    init_weights,
    training_table,
    measures_table,
    rank_correlation,
    plot_training,
    plot_measures,
    plot_hessian_density,


rule all:
    input:
        all_outputs(),
    default_target: True
