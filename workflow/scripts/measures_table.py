from genstudy.logs import log, redirect_output
from genstudy.tables import join_measures, read_measure_records, read_training, save_table

redirect_output(snakemake.log[0])
table = join_measures(read_training(snakemake.input.training), read_measure_records(snakemake.input.measures))
save_table(table, snakemake.output.csv, snakemake.output.html, "Complexity measures of every checkpoint")
log(f"{len(table)} rows, {len(table.columns)} columns")
