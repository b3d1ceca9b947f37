import pandas as pd

from genstudy.arrays import load_json
from genstudy.logs import redirect_output
from genstudy.plotting import plot_training

redirect_output(snakemake.log[0])
p, w = snakemake.params, snakemake.wildcards
table = pd.read_csv(snakemake.input.table, dtype={"hidden": str})
value = w[p.select]
title = (f"At {value}: " if p.select == "checkpoint" else f"{value} labels: ") + " vs ".join(map(str, p.order))
plot_training(
    table[table[p.select] == value],
    p.series,
    p.order,
    title,
    snakemake.output[0],
    p.axes,
    p.target,
    load_json(snakemake.input.info, ["n_classes"])["n_classes"],
)
