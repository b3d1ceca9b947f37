import pandas as pd

from genstudy.arrays import save_text
from genstudy.logs import log, redirect_output
from genstudy.ranking import granulated_kendall, rank_correlations, trusted
from genstudy.tables import html_view

redirect_output(snakemake.log[0])
table = pd.read_csv(snakemake.input[0], dtype={"hidden": str})
axes = list(snakemake.params.axes)
log(f"{len(table)} rows; {int((~trusted(table)).sum())} left out (checkpoint not reached or run diverged); "
    f"axes: {', '.join(axes) or 'none'}")
out = snakemake.output
tau = rank_correlations(table)
tau.to_csv(out.tau, index=False)
save_text(out.tau_html, html_view(tau, "Kendall τ-b with the test error, per scope", "rank_correlation.csv"))
psi = granulated_kendall(table, axes)
psi.to_csv(out.psi, index=False)
save_text(out.psi_html, html_view(psi, "Granulated Kendall ψ per axis, Ψ and the CMI criterion",
                                  "granulated_kendall.csv"))
top = tau[(tau.scope == "all") & (tau.form == "adjusted")].sort_values("tau", ascending=False)
log("τ over all runs, adjusted forms:\n" + top.head(10).to_string(index=False))
