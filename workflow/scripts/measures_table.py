from genstudy.contract import CHECKPOINTS
from genstudy.identity import run_identity
from genstudy.logs import log, redirect_output
from genstudy.study import run_from_wildcards
from genstudy.tables import join_measures, read_measure_records, read_training, save_table

redirect_output(snakemake.log[0])
runs = [run_identity(snakemake.params.study, run_from_wildcards(w)) for w in snakemake.params.runs]
expected = [{**run, "checkpoint": c} for c in CHECKPOINTS for run in runs]  # the inputs' order
table = join_measures(read_training(snakemake.input.training), read_measure_records(snakemake.input.measures, expected))
save_table(table, snakemake.output.csv, snakemake.output.html, "Complexity measures of every checkpoint")
log(f"{len(table)} rows, {len(table.columns)} columns")
