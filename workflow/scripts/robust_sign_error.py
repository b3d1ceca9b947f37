import pandas as pd

from genstudy.logs import log, redirect_output
from genstudy.sign_error import robust_sign_error, weightings
from genstudy.tables import save_csv, save_table

redirect_output(snakemake.log[0])
table = pd.read_csv(snakemake.input[0], dtype={"hidden": str})
params = snakemake.params
summary, environments = robust_sign_error(
    table,
    list(params.axes),
    int(params.test_size),
    weightings(float(params.weight_threshold), float(params.min_ess)),
)
out = snakemake.output
save_table(summary, out.summary, out.html, "Robust sign error: its distribution over environments")
save_csv(environments, out.environments)
log(f"{len(summary)} summaries over {environments.environment.nunique()} environments")
