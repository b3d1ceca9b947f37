import pandas as pd

from genstudy.intervals import ranking_intervals
from genstudy.logs import log, redirect_output
from genstudy.tables import save_table

redirect_output(snakemake.log[0])
table = pd.read_csv(snakemake.input[0], dtype={"hidden": str})
settings = snakemake.params.settings
intervals, differences = ranking_intervals(
    table, list(snakemake.params.axes), settings["bootstrap_draws"], settings["confidence"], settings["seed"]
)
out = snakemake.output
save_table(intervals, out.intervals, out.intervals_html, "Ranking criteria with seed-bootstrap intervals")
save_table(differences, out.differences, out.differences_html, "Each measure minus each baseline, with intervals")
log(
    f"{len(intervals)} criteria, {len(differences)} paired differences; verdicts:\n"
    + differences.verdict.value_counts().to_string()
)
