from genstudy.arrays import load_json, load_npz, save_npz
from genstudy.data import nested_subsets
from genstudy.logs import log, redirect_output

redirect_output(snakemake.log[0])
pool = load_npz(snakemake.input.pool, ["x", "y"])
n_classes = load_json(snakemake.input.info, ["n_classes"])["n_classes"]
w = snakemake.wildcards
sizes = [int(n) for n in snakemake.params.sizes]
subsets = nested_subsets(pool["x"], pool["y"], w.label_mode, int(w.seed), sizes, n_classes)
for (n, subset), path in zip(subsets, snakemake.output):
    agree = (subset["y"] == subset["y_true"]).mean()
    log(f"{w.label_mode} seed {w.seed} n {n}: labels agree with the truth on {agree:.3f}")
    save_npz(path, **subset)
