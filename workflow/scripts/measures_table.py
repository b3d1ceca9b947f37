import pandas as pd

from genstudy.logs import log, redirect_output
from genstudy.tables import join_measures, read_measure_records

redirect_output(snakemake.log[0])
training = pd.read_csv(snakemake.input.training)
table = join_measures(training, read_measure_records(snakemake.input.measures), int(snakemake.params.top_k), int(snakemake.params.depth))
table.to_csv(snakemake.output[0], index=False)
log(f"{len(table)} rows, {len(table.columns)} columns")
