import json
import time

import numpy as np

STARTED = time.perf_counter()

from genstudy.arrays import load_checkpoint, load_npz, load_params, load_subset, save_json, save_npz
from genstudy.contract import CHECKPOINTS
from genstudy.curvature import TrainingLoss
from genstudy.logs import Progress, log, redirect_output
from genstudy.measures import MeasureSettings, RunInfo, checkpoint_measures
from genstudy.runs import read_history, read_summary
from genstudy.runtime import configure_tensorflow
from genstudy.study import run_from_wildcards

redirect_output(snakemake.log[0])
configure_tensorflow(snakemake.threads)
log(f"TensorFlow ready {time.perf_counter() - STARTED:.2f} s after the script started")
w, inp, out = snakemake.wildcards, snakemake.input, snakemake.output
run = run_from_wildcards(w)
settings = MeasureSettings.from_config(snakemake.params.settings)
test = load_npz(inp.test, ["x", "y"])
params0 = load_params(inp.init)
sizes = snakemake.params.sizes
progress = Progress(len(sizes) * len(CHECKPOINTS), log)
for i, size in enumerate(sizes):
    subset = load_subset(inp.subsets[i])
    history = read_history(inp.histories[i])
    history_rows = [[row[k] for k in row] for _, row in sorted(history.items())]
    run_info = RunInfo(
        history=np.array(history_rows),
        batches_per_epoch=read_summary(inp.summaries[i])["batches_per_epoch"],
        batch_size=run["batch_size"],
    )
    loss = None  # built once per subset, shared by its checkpoints
    for ckpt in CHECKPOINTS:
        params, epoch, reached = load_checkpoint(inp[ckpt][i])
        log(f"n={size} {ckpt} (epoch {epoch}{'' if reached else ', not reached'}):")
        if loss is None:
            loss = TrainingLoss(params, subset["x"], subset["y"], threads=snakemake.threads)
        record, notes, diagnostics, (nodes, weights) = checkpoint_measures(
            params,
            params0,
            subset["x"],
            subset["y"],
            test["x"],
            settings,
            threads=snakemake.threads,
            loss=loss,
            log=log,
            run=run_info,
        )
        if not reached:
            notes.append(f"{ckpt} not reached by max_epochs: measures are of the final weights (epoch {epoch})")
        for note in notes:
            log(f"  note: {note}")
        log(f"  {json.dumps(record)}")
        save_json(
            out[ckpt][i],
            {
                "run": {**run, "size": int(size)},
                "checkpoint": ckpt,
                "reached": reached,
                "epoch": epoch,
                "measures": record,
                "notes": notes,
                "diagnostics": diagnostics,
            },
        )
        save_npz(out[f"{ckpt}_density"][i], nodes=nodes, weights=weights)
        progress.step(f"n={size} {ckpt}")
