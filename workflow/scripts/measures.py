import json
import time

STARTED = time.perf_counter()

from genstudy.arrays import load_checkpoint, load_npz, load_params, load_subset, save_json, save_npz  # noqa: E402
from genstudy.contract import CHECKPOINTS  # noqa: E402
from genstudy.curvature import TrainingLoss  # noqa: E402
from genstudy.logs import log, redirect_output  # noqa: E402
from genstudy.measures import checkpoint_measures  # noqa: E402
from genstudy.runtime import configure_tensorflow  # noqa: E402

redirect_output(snakemake.log[0])
configure_tensorflow(snakemake.threads)
log(f"TensorFlow ready {time.perf_counter() - STARTED:.2f} s after the script started")
w = snakemake.wildcards
inp, out = snakemake.input, snakemake.output
test = load_npz(inp.test, ["x", "y"])
params0 = load_params(inp.init)
for i, size in enumerate(snakemake.params.sizes):
    subset = load_subset(inp.subsets[i])
    loss = None  # built once per subset, shared by both checkpoints
    for ckpt in CHECKPOINTS:
        t = time.perf_counter()
        params, epoch, reached = load_checkpoint(inp[ckpt][i])
        if loss is None:
            loss = TrainingLoss(params, subset["x"], subset["y"], threads=snakemake.threads)
        record, notes, diagnostics, (nodes, weights) = checkpoint_measures(
            params, params0, subset["x"], subset["y"], test["x"], snakemake.params.settings,
            threads=snakemake.threads, loss=loss)
        if not reached:
            notes.append(f"{ckpt} not reached by max_epochs: measures are of the final weights (epoch {epoch})")
        log(f"n={size} {ckpt}: {json.dumps(record)} ({time.perf_counter() - t:.2f} s)")
        for note in notes:
            log(f"note: {note}")
        save_json(out[ckpt][i], {
            "label_mode": w.label_mode, "size": int(size), "seed": int(w.seed), "checkpoint": ckpt,
            "reached": reached, "epoch": epoch,
            "measures": record, "notes": notes, "diagnostics": diagnostics,
        })
        save_npz(out[f"{ckpt}_density"][i], nodes=nodes, weights=weights)
