import json

import numpy as np

from genstudy.arrays import load_npz, load_params, load_subset, save_json, save_npz
from genstudy.logs import log, redirect_output
from genstudy.measures import checkpoint_measures

redirect_output(snakemake.log[0])
w = snakemake.wildcards
subset = load_subset(snakemake.input.subset)
test = load_npz(snakemake.input.test, ["x", "y"])
params0 = load_params(snakemake.input.init)
summary = json.loads(open(snakemake.input.summary).read())
for ckpt in ("acc1", "loss0"):
    params = load_params(snakemake.input[ckpt])
    meta = load_npz(snakemake.input[ckpt], ["epoch", "reached"])
    record, notes, diagnostics, (nodes, weights) = checkpoint_measures(
        params, params0, subset["x"], subset["y"], test["x"], snakemake.params.settings, threads=snakemake.threads)
    if not bool(meta["reached"]):
        notes.append(f"{ckpt} not reached by max_epochs: measures are of the final weights (epoch {int(meta['epoch'])})")
    log(f"{ckpt}: {json.dumps(record)}")
    for note in notes:
        log(f"note: {note}")
    save_json(snakemake.output[ckpt], {
        "label_mode": w.label_mode, "size": int(w.size), "seed": int(w.seed), "checkpoint": ckpt,
        "reached": bool(meta["reached"]), "epoch": int(meta["epoch"]),
        "measures": record, "notes": notes, "diagnostics": diagnostics,
    })
    save_npz(snakemake.output[f"{ckpt}_density"], nodes=nodes, weights=weights)
