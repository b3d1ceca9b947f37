"""One train job and one measures job: each is one run of the study (its axes, size, seed and
label mode), as the rules key them.

The rule scripts read Snakemake's inputs and call these; everything a job decides (which
optimizer state it continues, where it resumes, when it writes) is here, testable without
Snakemake. A job writes its outputs only once all of them are computed, each file atomically,
so a killed job leaves no file under a final name; a train job's resumable state outlives it
until then, so its rerun continues where it stopped. TensorFlow is imported by the functions
that train or measure, not by this module.
"""

from __future__ import annotations

import json
from pathlib import Path

from .arrays import (
    FileContractError,
    load_checkpoint,
    load_json,
    load_npz,
    load_params,
    load_subset,
    save_json,
    save_npz,
)
from .contract import CHECKPOINTS, TRAIN_SETTINGS
from .identity import check_run_files, check_subset, run_identity, subset_identity


def train_run(
    run: dict, inputs: dict, outputs: dict, state_path, settings: dict, study: str, log=print, threads: int = 1
):
    """Train ``run`` of ``study`` to its checkpoints and write its files (``outputs``: the keys of
    the train rule's outputs). ``inputs``: subset, init, test, and, when the run continues
    another's Adam state, optimizer with that run's optimizer_summary. ``settings``: the config's
    ``TRAIN_SETTINGS``. Every input is checked to be the file this run reads. Returns the result."""
    from .runs import write_training_outputs
    from .training import TrainingDiverged, TrainSettings, train_to_targets

    subset = _subset_of(run, study, inputs["subset"])
    test, params0 = load_npz(inputs["test"], ["x", "y"]), load_params(inputs["init"])
    carried = inputs.get("optimizer")
    optimizer = _carried_state(run, study, carried, inputs.get("optimizer_summary")) if carried else None
    s = TrainSettings(
        seed=run["seed"],
        learning_rate=run["learning_rate"],
        batch_size=run["batch_size"],
        **{k: settings[k] for k in TRAIN_SETTINGS},
    )
    log(f"training {run} with {s}" + (f", Adam continuing from {carried}" if carried else ""))
    try:
        result = train_to_targets(
            params0,
            subset["x"],
            subset["y"],
            test["x"],
            test["y"],
            s,
            state_path=state_path,
            log=log,
            threads=threads,
            optimizer=optimizer,
        )
    except TrainingDiverged as exc:
        raise SystemExit(f"run {run}: {exc}") from None
    write_training_outputs(result, s, outputs, run, str(inputs["subset"]), params0, log=log, study=study)
    if result.resumed_from_epoch:
        log(f"this run resumed from epoch {result.resumed_from_epoch}")
    Path(state_path).unlink(missing_ok=True)  # only now: the outputs it would recreate exist
    return result


def _subset_of(run: dict, study: str, path) -> dict:
    """The subset file of ``run``, checked to be it (study, label mode, seed, n)."""
    arrays = load_subset(path)
    check_subset(path, arrays, subset_identity(study, run["label_mode"], run["seed"], run["size"]))
    return arrays


def _carried_state(run: dict, study: str, path, summary_path) -> dict:
    """Adam's state at the end of the run of the next larger size, checked against its summary."""
    summary = load_json(summary_path, ["study", "run", "files"])
    size = summary["run"].get("size") if isinstance(summary["run"], dict) else None
    if not isinstance(size, int) or size <= run["size"]:
        raise FileContractError(f"{summary_path}: not the run of a size larger than n = {run['size']}")
    check_run_files(summary_path, summary, run_identity(study, {**run, "size": size}), {"optimizer": path})
    return load_npz(path, ["step"])


def measure_run(
    run: dict, inputs: dict, outputs: dict, settings: dict, study: str, log=print, threads: int = 1
) -> None:
    """Every measure of every checkpoint of ``run``; writes ``outputs[c]`` (the record, JSON:
    study, run, checkpoint, the checkpoint file's SHA-256) and ``outputs[f"{c}_density"]`` (the
    SLQ spectral density) for each checkpoint c, once all are computed. ``inputs``: each
    checkpoint, subset, history, summary, init and test, each checked to be this run's. Every
    estimator is seeded from ``settings`` alone, so a checkpoint's numbers do not depend on what
    else a process measured."""
    import numpy as np

    from .curvature import TrainingLoss
    from .logs import Progress
    from .measures import MeasureSettings, RunInfo, checkpoint_measures
    from .runs import read_history, read_summary

    s = MeasureSettings.from_config(settings)
    summary = read_summary(inputs["summary"])
    own = {k: inputs[k] for k in (*CHECKPOINTS, "history")}
    check_run_files(inputs["summary"], summary, run_identity(study, run), own)
    subset = _subset_of(run, study, inputs["subset"])
    test, params0 = load_npz(inputs["test"], ["x", "y"]), load_params(inputs["init"])
    history = read_history(inputs["history"])
    info = RunInfo(
        history=np.array([list(row.values()) for _, row in sorted(history.items())]),
        batches_per_epoch=summary["batches_per_epoch"],
        batch_size=run["batch_size"],
    )
    progress, loss, written = Progress(len(CHECKPOINTS), log), None, []
    for ckpt in CHECKPOINTS:
        params, epoch, reached = load_checkpoint(inputs[ckpt])
        log(f"n={run['size']} {ckpt} (epoch {epoch}{'' if reached else ', not reached'}):")
        # compiled once for the subset, shared by the run's checkpoints
        if loss is None:
            loss = TrainingLoss(params, subset["x"], subset["y"], threads=threads)
        record, notes, diagnostics, density = checkpoint_measures(
            params, params0, subset["x"], subset["y"], test["x"], s, threads=threads, loss=loss, log=log, run=info
        )
        if not reached:
            notes.append(f"{ckpt} not reached by max_epochs: measures are of the final weights (epoch {epoch})")
        for note in notes:
            log(f"  note: {note}")
        log(f"  {json.dumps(record)}")
        doc = dict(study=study, run=run, checkpoint=ckpt, reached=reached, epoch=epoch, measures=record, notes=notes)
        doc["checkpoint_sha256"] = summary["files"][ckpt]
        written.append((ckpt, {**doc, "diagnostics": diagnostics}, density))
        progress.step(f"n={run['size']} {ckpt}")
    for ckpt, doc, (nodes, weights) in written:
        save_json(outputs[ckpt], doc)
        save_npz(outputs[f"{ckpt}_density"], nodes=nodes, weights=weights)
