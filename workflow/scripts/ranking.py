import pandas as pd

from genstudy.logs import log, redirect_output
from genstudy.ranking import granulated_kendall, rank_correlations, trusted
from genstudy.tables import save_table

redirect_output(snakemake.log[0])
table = pd.read_csv(snakemake.input[0], dtype={"hidden": str})
axes = list(snakemake.params.axes)
log(
    f"{len(table)} rows; {int((~trusted(table)).sum())} left out (checkpoint not reached or run diverged); "
    f"axes: {', '.join(axes) or 'none'}"
)
out = snakemake.output
tau = rank_correlations(table)
save_table(tau, out.tau, out.tau_html, "Kendall τ-b with the test error, per scope")
psi = granulated_kendall(table, axes)
save_table(psi, out.psi, out.psi_html, "Granulated Kendall ψ per axis, Ψ and the CMI criterion")
top = tau[(tau.scope == "all") & (tau.form == "adjusted")].sort_values("tau", ascending=False)
log("τ over all runs, adjusted forms:\n" + top.head(10).to_string(index=False))
