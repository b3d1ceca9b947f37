# `snakemake --cores all` from here runs the default study (config.yaml). The workflow
# lives in workflow/Snakefile, which is also what a module import points at; this file
# includes it and names its target (an include keeps the including file's default).
include: "workflow/Snakefile"


workflow.default_target = "all"
