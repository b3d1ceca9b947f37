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


rule all:
    input:
        all_outputs(),
    default_target: True
