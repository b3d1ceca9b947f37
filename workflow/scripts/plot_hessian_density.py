from genstudy.arrays import load_npz
from genstudy.logs import redirect_output
from genstudy.plotting import plot_spectral_density

redirect_output(snakemake.log[0])
modes, seeds = snakemake.params.label_modes, snakemake.params.seeds
paths = iter(snakemake.input)
densities = {}
for mode in modes:  # input order: expand() over label_mode, then seed
    densities[mode] = [load_npz(next(paths), ["nodes", "weights"]) for _ in seeds]
plot_spectral_density(densities, f"Hessian spectral density at loss0, n = {snakemake.params.size}",
                      snakemake.output[0])
