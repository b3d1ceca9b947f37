from pathlib import Path

import pandas as pd

from genstudy.logs import log, redirect_output
from genstudy.runs import TRAINING_COLUMNS, run_rows

redirect_output(snakemake.log[0])
rows = []
for summary in snakemake.input.summaries:
    run_dir = Path(summary).parent  # results/train/{label_mode}/n{size}/seed{seed}
    rows += run_rows(run_dir.parent.parent.name, int(run_dir.parent.name[1:]), int(run_dir.name[4:]), run_dir)
table = pd.DataFrame(rows, columns=TRAINING_COLUMNS)
table.to_csv(snakemake.output[0], index=False)
log(f"{len(table)} rows")
