import pandas as pd

from genstudy.logs import redirect_output
from genstudy.plotting import plot_ranking

redirect_output(snakemake.log[0])
inp = snakemake.input
plot_ranking(pd.read_csv(inp.tau), pd.read_csv(inp.psi), pd.read_csv(inp.intervals), snakemake.output[0])
