import pandas as pd

from genstudy.logs import log, redirect_output
from genstudy.ranking import granulated_kendall, rank_correlations, trusted

redirect_output(snakemake.log[0])
table = pd.read_csv(snakemake.input[0], dtype={"hidden": str})
axes = list(snakemake.params.axes)
log(f"{len(table)} rows; {int((~trusted(table)).sum())} left out (checkpoint not reached or run diverged); "
    f"axes: {', '.join(axes) or 'none'}")
tau = rank_correlations(table)
tau.to_csv(snakemake.output.tau, index=False)
psi = granulated_kendall(table, axes)
psi.to_csv(snakemake.output.psi, index=False)
top = tau[(tau.scope == "all") & (tau.form == "adjusted")].sort_values("tau", ascending=False)
log("τ over all runs, adjusted forms:\n" + top.head(10).to_string(index=False))
