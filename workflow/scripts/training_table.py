from pathlib import Path

import pandas as pd

from genstudy.arrays import load_json
from genstudy.identity import run_identity
from genstudy.logs import log, redirect_output
from genstudy.runs import TRAINING_COLUMNS, run_rows
from genstudy.study import run_from_wildcards
from genstudy.tables import save_table

redirect_output(snakemake.log[0])
info = load_json(snakemake.input.info, ["n_features", "n_classes"])
expected = [run_identity(snakemake.params.study, run_from_wildcards(w)) for w in snakemake.params.runs]
rows = [
    row
    for summary, run in zip(snakemake.input.summaries, expected, strict=True)
    for row in run_rows(Path(summary).parent, info["n_features"], info["n_classes"], run)
]
table = pd.DataFrame(rows, columns=TRAINING_COLUMNS)
save_table(table, snakemake.output.csv, snakemake.output.html, "Training runs")
log(f"{len(table)} rows, {int(table.diverged.sum())} of them from diverged runs")
