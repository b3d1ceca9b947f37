from genstudy.arrays import load_json, save_npz
from genstudy.logs import log, redirect_output
from genstudy.model import glorot_uniform_init, layer_sizes
from genstudy.study import parse_hidden_key

redirect_output(snakemake.log[0])
w = snakemake.wildcards
info = load_json(snakemake.input.info, ["n_features", "n_classes"])
sizes = layer_sizes(info["n_features"], parse_hidden_key(w.hidden), info["n_classes"])
params = glorot_uniform_init(sizes, int(w.seed))
log(f"Glorot-uniform init, layers {sizes}, seed {w.seed}")
save_npz(snakemake.output[0], epoch=0, **params)
