from genstudy.arrays import load_npz
from genstudy.logs import redirect_output
from genstudy.plotting import plot_spectral_density

redirect_output(snakemake.log[0])
densities = {}
for run, path in zip(snakemake.params.runs, snakemake.input):
    densities.setdefault(run["label_mode"], []).append(load_npz(path, ["nodes", "weights"]))
plot_spectral_density(densities, f"Hessian spectral density at loss0, n = {snakemake.params.size}", snakemake.output[0])
