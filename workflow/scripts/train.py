import time
from pathlib import Path
from types import SimpleNamespace

STARTED = time.perf_counter()

from genstudy.arrays import load_npz, load_params, load_subset
from genstudy.logs import log, redirect_output
from genstudy.runs import write_training_outputs
from genstudy.runtime import configure_tensorflow
from genstudy.study import run_from_wildcards, training_order
from genstudy.training import TrainingDiverged, TrainSettings, train_to_targets

redirect_output(snakemake.log[0])
configure_tensorflow(snakemake.threads)
log(f"TensorFlow ready {time.perf_counter() - STARTED:.2f} s after the script started")
w, inp, out, params = snakemake.wildcards, snakemake.input, snakemake.output, snakemake.params
test = load_npz(inp.test, ["x", "y"])
params0 = load_params(inp.init)
position = {(r["lr"], int(r["size"])): i for i, r in enumerate(params.runs)}
sizes, rates = sorted({n for _, n in position}), list(dict.fromkeys(lr for lr, _ in position))
carried, before = {}, None  # carry_optimizer: Adam's state per learning rate after the size trained before
finished = []
for size in training_order(sizes, w.protocol):
    programs = {}  # compiled loops of this size, shared by its learning rates and dropped with it
    for lr in rates:
        i = position[lr, size]
        run = run_from_wildcards(SimpleNamespace(**dict(w.items()), lr=lr), size)
        subset = load_subset(inp.subsets[i])
        settings = TrainSettings(
            seed=run["seed"], learning_rate=run["learning_rate"], batch_size=run["batch_size"], **params.settings
        )
        name, optimizer = f"lr={lr} n={size}", carried.get(lr)
        log(f"{name}: training {run} with {settings}" + (f", Adam continuing from n={before}" if optimizer else ""))
        try:
            result = train_to_targets(
                params0,
                subset["x"],
                subset["y"],
                test["x"],
                test["y"],
                settings,
                state_path=params.states[i],
                log=log,
                threads=snakemake.threads,
                optimizer=optimizer,
                programs=programs,
            )
        except TrainingDiverged as exc:
            raise SystemExit(f"{snakemake.log[0]}: run {run}: {exc}") from None
        finished.append((name, result, settings, {k: files[i] for k, files in out.items()}, run, inp.subsets[i]))
        if w.protocol == "carry_optimizer":
            carried[lr] = result.optimizer
    before = size
# Written once every run is trained, so a killed job leaves no file that looks finished; the
# states are kept until then, so its rerun resumes the runs it had finished at their end.
for name, result, settings, outputs, run, subset_file in finished:
    log(f"{name}:")
    write_training_outputs(result, settings, outputs, run, subset_file, params0, log=log)
for state in params.states:
    Path(state).unlink(missing_ok=True)
