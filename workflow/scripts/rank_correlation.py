import pandas as pd

from genstudy.logs import log, redirect_output
from genstudy.plotting import plot_rank_correlation
from genstudy.tables import rank_correlations

redirect_output(snakemake.log[0])
table = pd.read_csv(snakemake.input[0])
tau = rank_correlations(table, int(snakemake.params.top_k), int(snakemake.params.depth))
tau.to_csv(snakemake.output.table, index=False)
log(tau[tau.runs == "all"].to_string(index=False))
plot_rank_correlation(tau, snakemake.output.figure)
