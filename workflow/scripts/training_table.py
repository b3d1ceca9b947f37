from pathlib import Path

import pandas as pd

from genstudy.arrays import load_json, save_text
from genstudy.logs import log, redirect_output
from genstudy.runs import TRAINING_COLUMNS, run_rows
from genstudy.tables import html_view

redirect_output(snakemake.log[0])
info = load_json(snakemake.input.info, ["n_features", "n_classes"])
rows = [row for summary in snakemake.input.summaries
        for row in run_rows(Path(summary).parent, info["n_features"], info["n_classes"])]
table = pd.DataFrame(rows, columns=TRAINING_COLUMNS)
table.to_csv(snakemake.output.csv, index=False)
save_text(snakemake.output.html, html_view(table, "Training runs", "training.csv"))
log(f"{len(table)} rows, {int(table.diverged.sum())} of them from diverged runs")
