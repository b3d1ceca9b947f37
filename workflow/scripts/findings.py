import pandas as pd

from genstudy.arrays import save_text
from genstudy.findings import findings_markdown, git_commit
from genstudy.logs import log, redirect_output

redirect_output(snakemake.log[0])
inp = snakemake.input
text = findings_markdown(
    pd.read_csv(inp.intervals),
    pd.read_csv(inp.differences),
    pd.read_csv(inp.sign_error),
    pd.read_csv(inp.measures, dtype={"hidden": str}),
    snakemake.params.study,
    dict(snakemake.params.config),
    git_commit(snakemake.params.repository),
)
save_text(snakemake.output[0], text)
log(text)
