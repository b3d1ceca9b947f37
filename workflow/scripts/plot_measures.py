import pandas as pd

from genstudy.logs import redirect_output
from genstudy.plotting import plot_family

redirect_output(snakemake.log[0])
p = snakemake.params
table = pd.read_csv(snakemake.input[0], dtype={"hidden": str})
plot_family(table, snakemake.wildcards.family, p.label_modes, snakemake.output[0], p.axes, p.target)
