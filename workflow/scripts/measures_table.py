from genstudy.arrays import save_text
from genstudy.logs import log, redirect_output
from genstudy.tables import html_view, join_measures, read_measure_records, read_training

redirect_output(snakemake.log[0])
table = join_measures(read_training(snakemake.input.training), read_measure_records(snakemake.input.measures))
table.to_csv(snakemake.output.csv, index=False)
save_text(snakemake.output.html, html_view(table, "Complexity measures of every checkpoint", "measures.csv"))
log(f"{len(table)} rows, {len(table.columns)} columns")
