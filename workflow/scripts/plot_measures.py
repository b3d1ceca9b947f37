import pandas as pd

from genstudy.logs import redirect_output
from genstudy.measures import measure_columns
from genstudy.plotting import plot_against_size

redirect_output(snakemake.log[0])
table = pd.read_csv(snakemake.input[0])
panels = [(m, m) for m in measure_columns(int(snakemake.params.top_k), int(snakemake.params.depth))]
modes = snakemake.params.label_modes
for ckpt, path in zip(snakemake.params.checkpoints, snakemake.output):
    plot_against_size(table[table.checkpoint == ckpt], panels, "label_mode", modes,
                      f"complexity measures at {ckpt}: " + " vs ".join(modes), path, ncols=5)
