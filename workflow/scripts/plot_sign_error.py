import pandas as pd

from genstudy.logs import redirect_output
from genstudy.plotting import plot_sign_error_cdf

redirect_output(snakemake.log[0])
plot_sign_error_cdf(pd.read_csv(snakemake.input[0]), snakemake.output[0], min_ess=snakemake.params.min_ess)
