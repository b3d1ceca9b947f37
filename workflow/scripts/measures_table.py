from genstudy.logs import log, redirect_output
from genstudy.tables import join_measures, read_measure_records, read_training

redirect_output(snakemake.log[0])
table = join_measures(read_training(snakemake.input.training), read_measure_records(snakemake.input.measures))
table.to_csv(snakemake.output[0], index=False)
log(f"{len(table)} rows, {len(table.columns)} columns")
