import time
from pathlib import Path

STARTED = time.perf_counter()

from genstudy.arrays import load_npz, load_params, load_subset
from genstudy.logs import log, redirect_output
from genstudy.runs import write_training_outputs
from genstudy.runtime import configure_tensorflow
from genstudy.training import TrainSettings, train_to_targets

redirect_output(snakemake.log[0])
configure_tensorflow(snakemake.threads)
log(f"TensorFlow ready {time.perf_counter() - STARTED:.2f} s after the script started")
w = snakemake.wildcards
subset = load_subset(snakemake.input.subset)
test = load_npz(snakemake.input.test, ["x", "y"])
params0 = load_params(snakemake.input.init)
settings = TrainSettings(seed=int(w.seed), **snakemake.params.settings)
log(f"training {w.label_mode} n={w.size} seed={w.seed} with {settings}")
result = train_to_targets(
    params0, subset["x"], subset["y"], test["x"], test["y"], settings,
    state_path=snakemake.params.state, log=log, threads=snakemake.threads,
)
run = {"label_mode": w.label_mode, "size": int(w.size), "seed": int(w.seed)}
write_training_outputs(result, settings, dict(snakemake.output.items()), run, log=log)
if result.resumed_from_epoch:
    log(f"this run resumed from epoch {result.resumed_from_epoch}")
Path(snakemake.params.state).unlink(missing_ok=True)
