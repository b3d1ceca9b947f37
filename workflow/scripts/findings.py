import pandas as pd

from genstudy.arrays import save_text
from genstudy.findings import findings_markdown
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
    snakemake.params.commit,
)
save_text(snakemake.output[0], text)
log(text)
