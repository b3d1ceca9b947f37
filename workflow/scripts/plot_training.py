import pandas as pd

from genstudy.logs import redirect_output
from genstudy.plotting import TRAINING_PANELS, plot_against_size

redirect_output(snakemake.log[0])
table = pd.read_csv(snakemake.input.table)
modes, ckpts = snakemake.params.label_modes, snakemake.params.checkpoints
for ckpt, path in zip(ckpts, snakemake.output.by_checkpoint):
    plot_against_size(table[table.checkpoint == ckpt], TRAINING_PANELS, "label_mode", modes,
                      f"checkpoint {ckpt}: " + " vs ".join(modes), path)
for mode, path in zip(modes, snakemake.output.by_mode):
    plot_against_size(table[table.label_mode == mode], TRAINING_PANELS, "checkpoint", ckpts,
                      f"{mode} labels: " + " vs ".join(ckpts), path)
