import json

import numpy as np

from genstudy.arrays import load_json, load_npz, save_npz
from genstudy.data import subset
from genstudy.identity import subset_identity
from genstudy.logs import log, redirect_output

redirect_output(snakemake.log[0])
w = snakemake.wildcards
pool = load_npz(snakemake.input.pool, ["x", "y"])
n_classes = load_json(snakemake.input.info, ["n_classes"])["n_classes"]
drawn = subset(pool["x"], pool["y"], w.label_mode, int(w.seed), int(w.size), n_classes)
log(
    f"{w.label_mode} seed {w.seed} n {w.size}: labels agree with the truth on {(drawn['y'] == drawn['y_true']).mean():.3f}"
)
identity = subset_identity(snakemake.params.study, w.label_mode, int(w.seed), int(w.size))
save_npz(snakemake.output[0], **drawn, identity=np.array(json.dumps(identity, sort_keys=True)))
