import pandas as pd

from genstudy.arrays import load_json
from genstudy.logs import redirect_output
from genstudy.plotting import plot_against_axis

redirect_output(snakemake.log[0])
p = snakemake.params
table = pd.read_csv(snakemake.input.table, dtype={"hidden": str})
plot_against_axis(
    table,
    snakemake.wildcards.axis,
    snakemake.output[0],
    p.axes,
    p.target,
    load_json(snakemake.input.info, ["n_classes"])["n_classes"],
)
