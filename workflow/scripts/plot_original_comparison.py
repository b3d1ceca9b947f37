import pandas as pd

from genstudy.logs import redirect_output
from genstudy.plotting import plot_original_comparison

redirect_output(snakemake.log[0])
plot_original_comparison(
    pd.read_csv(snakemake.input.table, dtype={"hidden": str}),
    pd.read_csv(snakemake.input.published, comment="#"),
    snakemake.output[0],
    snakemake.params.target,
    snakemake.params.dataset,
)
