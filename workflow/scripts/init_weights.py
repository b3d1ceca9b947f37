from genstudy.arrays import load_npz, save_npz
from genstudy.logs import log, redirect_output
from genstudy.model import glorot_uniform_init, layer_sizes

redirect_output(snakemake.log[0])
n_inputs = load_npz(snakemake.input.pool, ["x"])["x"].shape[1]
sizes = layer_sizes(n_inputs, snakemake.params.hidden)
params = glorot_uniform_init(sizes, int(snakemake.wildcards.seed))
log(f"Glorot-uniform init, layers {sizes}, seed {snakemake.wildcards.seed}")
save_npz(snakemake.output[0], epoch=0, **params)
