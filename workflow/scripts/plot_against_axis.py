import pandas as pd

from genstudy.arrays import load_json
from genstudy.logs import redirect_output
from genstudy.plotting import plot_against_axis

redirect_output(snakemake.log[0])
p = snakemake.params
table = pd.read_csv(snakemake.input.table, dtype={"hidden": str})
n_classes = load_json(snakemake.input.info, ["n_classes"])["n_classes"]
for family, path in zip(p.families, snakemake.output, strict=True):
    plot_against_axis(table, snakemake.wildcards.axis, family, path, p.axes, p.target, n_classes)
