import pandas as pd

from genstudy.logs import redirect_output
from genstudy.plotting import plot_ranking

redirect_output(snakemake.log[0])
plot_ranking(pd.read_csv(snakemake.input.tau), pd.read_csv(snakemake.input.psi), snakemake.output[0])
