import time
from pathlib import Path

STARTED = time.perf_counter()

from genstudy.arrays import load_npz, load_params, load_subset
from genstudy.logs import log, redirect_output
from genstudy.runs import write_training_outputs
from genstudy.runtime import configure_tensorflow
from genstudy.study import parse_hidden_key
from genstudy.training import TrainingDiverged, TrainSettings, train_to_targets

redirect_output(snakemake.log[0])
configure_tensorflow(snakemake.threads)
log(f"TensorFlow ready {time.perf_counter() - STARTED:.2f} s after the script started")
w, inp = snakemake.wildcards, snakemake.input
run = {
    "label_mode": w.label_mode,
    "hidden": list(parse_hidden_key(w.hidden)),
    "learning_rate": float(w.lr),
    "batch_size": int(w.bs),
    "protocol": w.protocol,
    "size": int(w.size),
    "seed": int(w.seed),
}
subset = load_subset(inp.subset)
test = load_npz(inp.test, ["x", "y"])
params0 = load_params(inp.init)
carried = getattr(inp, "optimizer", None)  # carry_optimizer: Adam's state after the next larger size
optimizer = load_npz(carried, ["step"]) if carried else None
settings = TrainSettings(
    seed=run["seed"], learning_rate=run["learning_rate"], batch_size=run["batch_size"], **snakemake.params.settings
)
log(f"training {run} with {settings}" + (f", Adam continuing from {carried}" if carried else ""))
try:
    result = train_to_targets(
        params0,
        subset["x"],
        subset["y"],
        test["x"],
        test["y"],
        settings,
        state_path=snakemake.params.state,
        log=log,
        threads=snakemake.threads,
        optimizer=optimizer,
    )
except TrainingDiverged as exc:
    raise SystemExit(f"{snakemake.log[0]}: run {run}: {exc}") from None
write_training_outputs(result, settings, dict(snakemake.output.items()), run, inp.subset, params0, log=log)
if result.resumed_from_epoch:
    log(f"this run resumed from epoch {result.resumed_from_epoch}")
Path(snakemake.params.state).unlink(missing_ok=True)
