from pathlib import Path

import pandas as pd

from genstudy.arrays import load_json
from genstudy.logs import log, redirect_output
from genstudy.runs import TRAINING_COLUMNS, run_rows
from genstudy.tables import save_table

redirect_output(snakemake.log[0])
info = load_json(snakemake.input.info, ["n_features", "n_classes"])
rows = [
    row
    for summary in snakemake.input.summaries
    for row in run_rows(Path(summary).parent, info["n_features"], info["n_classes"])
]
table = pd.DataFrame(rows, columns=TRAINING_COLUMNS)
save_table(table, snakemake.output.csv, snakemake.output.html, "Training runs")
log(f"{len(table)} rows, {int(table.diverged.sum())} of them from diverged runs")
