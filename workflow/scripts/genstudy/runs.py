"""Files of one training run, and the training table built from them."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import numpy as np

from .arrays import FileContractError, load_json, load_params, save_json, save_npz, save_text
from .contract import CHECKPOINTS, HISTORY_COLUMNS
from .identity import check_run_files, manifest
from .norms import l2_seed
from .study import arch_columns, hidden_key

RUN_KEYS = ("label_mode", "hidden", "learning_rate", "batch_size", "protocol", "size", "seed")
TRAINING_COLUMNS = (
    "label_mode",
    "hidden",
    "depth",
    "width",
    "n_params",
    "learning_rate",
    "batch_size",
    "protocol",
    "size",
    "seed",
    "checkpoint",
    "reached",
    "diverged",
    "epoch",
    "updates",
    "train_loss",
    "train_acc",
    "test_loss",
    "test_acc",
    "gen_gap",
    "l2_seed",
    "checkpoint_file",
    "subset_file",
)
SUMMARY_KEYS = ("study", "run", "files", "batches_per_epoch", "final_epoch", "diverged", "subset_file") + CHECKPOINTS
RUN_FILES = (*CHECKPOINTS, "final", "optimizer", "history")  # a run's files that its summary lists

DIVERGENCE_FACTOR = 100.0  # a loss, or a weight norm, this many times the initial one marks a diverged run


def divergence(history: np.ndarray, params0: dict, params: dict) -> str | None:
    """Why a run diverged, or None: its training loss grew by orders of magnitude, or its
    weights did (then the loss can even underflow to 0 while every number is meaningless)."""
    if np.max(history[:, 1]) >= DIVERGENCE_FACTOR * history[0, 1]:
        return f"the training loss grew to {np.max(history[:, 1]):.3g} from {history[0, 1]:.3g}"
    norm0, norm = (
        np.sqrt(sum(np.sum(np.asarray(p, np.float64) ** 2) for p in ps.values())) for ps in (params0, params)
    )
    if norm >= DIVERGENCE_FACTOR * norm0:
        return f"the weights' norm grew {norm / norm0:.3g}-fold (to {norm:.3g})"
    return None


# Columns that may be empty in a history: the test set is evaluated only every
# train.test_every epochs (and at every checkpoint); an empty field is "not evaluated".
SPARSE_HISTORY_COLUMNS = ("test_loss", "test_acc")


def history_csv(history: np.ndarray) -> str:
    """history.csv: one row per epoch; a NaN (a test column not evaluated) is an empty field."""
    out = io.StringIO()
    out.write(",".join(HISTORY_COLUMNS) + "\n")
    for row in history:
        out.write(f"{int(row[0])}," + ",".join("" if math.isnan(v) else repr(float(v)) for v in row[1:]) + "\n")
    return out.getvalue()


def _history_value(column: str, field: str) -> float:
    """A history field as a float: finite, or NaN where a sparse column was not evaluated."""
    if field == "" and column in SPARSE_HISTORY_COLUMNS:
        return math.nan
    value = float(field)
    if not math.isfinite(value):
        raise ValueError(field)
    return value


def write_training_outputs(
    result, settings, outputs: dict, run: dict, subset_file: str, params0: dict, log=print, *, study: str
) -> None:
    """acc1/ce001/loss0/final npz (an unreached checkpoint holds the final weights, reached=False),
    Adam's final state, history.csv, then summary.json: the study, ``run`` (the job's axes, size
    and seed), the subset's path, and the SHA-256 of every other file (``identity.manifest``)."""
    final_epoch = result.final_epoch
    ckpts = {
        "acc1": (result.acc1_epoch, result.acc1_params),
        "ce001": (result.ce001_epoch, result.ce001_params),
        "loss0": (result.loss0_epoch, result.final_params),
    }
    summary = {
        "study": study,
        "run": run,
        "subset_file": subset_file,
        "batches_per_epoch": result.batches_per_epoch,
        "final_epoch": final_epoch,
        "max_epochs": settings.max_epochs,
        "target_loss": settings.target_loss,
        "test_every": settings.test_every,  # the history's test columns: every this-many-th epoch
    }
    why = divergence(result.history, params0, result.final_params)
    summary["diverged"] = why is not None
    if why:
        log(f"diverged: {why}; the tables mark the run and the rankings leave it out")
    for name in CHECKPOINTS:
        epoch, params = ckpts[name]
        reached = epoch is not None
        save_npz(
            outputs[name],
            epoch=epoch if reached else final_epoch,
            reached=reached,
            **(params if reached else result.final_params),
        )
        summary[name] = {"reached": reached, "epoch": epoch}
        log(f"{name}: " + (f"reached at epoch {epoch}" if reached else f"not reached by epoch {final_epoch}"))
    save_npz(outputs["final"], epoch=final_epoch, reached=True, **result.final_params)
    save_npz(outputs["optimizer"], **result.optimizer)
    save_text(outputs["history"], history_csv(result.history))
    summary["files"] = manifest({name: path for name, path in outputs.items() if name in RUN_FILES})
    save_json(outputs["summary"], summary)


def read_history(path) -> dict[int, dict]:
    """history.csv as {epoch: row}; every row must have every column, as a finite number,
    so a truncated or damaged file is refused instead of read."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise FileContractError(f"{path}: unreadable training history ({exc})") from exc
    # A cut inside a number still parses; the final newline history_csv always writes tells.
    if not text.endswith("\n"):
        raise FileContractError(f"{path}: truncated (the last line has no newline)")
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or tuple(rows[0]) != HISTORY_COLUMNS:
        raise FileContractError(f"{path}: not a training history (expected the header {','.join(HISTORY_COLUMNS)})")
    out = {}
    for line, row in enumerate(rows[1:], start=2):
        try:
            values = [_history_value(c, v) for c, v in zip(HISTORY_COLUMNS, row, strict=True)]
        except ValueError:
            raise FileContractError(f"{path}: line {line} is damaged or truncated ({','.join(row)!r})") from None
        out[int(values[0])] = dict(zip(HISTORY_COLUMNS, values))
    if sorted(out) != list(range(len(out))):
        raise FileContractError(f"{path}: epochs are not 0, 1, 2, … in order")
    return out


def read_summary(path) -> dict:
    doc = load_json(path, SUMMARY_KEYS)
    missing = [k for k in RUN_KEYS if k not in doc["run"]]
    if missing:
        raise FileContractError(f"{path}: run lacks keys {missing}")
    return doc


def run_rows(run_dir, n_inputs: int, n_classes: int, expected: dict | None = None) -> list[dict]:
    """One row per checkpoint of one run; an unreached one reports the final weights. The
    history and checkpoints must be the files the summary lists, and with ``expected`` (a
    ``identity.run_identity``) the summary must be that run's."""
    run_dir = Path(run_dir)
    summary = read_summary(run_dir / "summary.json")
    files = {name: run_dir / f"{name}{'.csv' if name == 'history' else '.npz'}" for name in (*CHECKPOINTS, "history")}
    check_run_files(run_dir / "summary.json", summary, expected or {k: summary[k] for k in ("study", "run")}, files)
    history = read_history(run_dir / "history.csv")
    run = summary["run"]
    axes = {k: run[k] for k in RUN_KEYS}
    axes["hidden"] = hidden_key(run["hidden"])
    rows = []
    for ckpt in CHECKPOINTS:
        path = run_dir / f"{ckpt}.npz"
        params = load_params(path)
        reached = bool(summary[ckpt]["reached"])
        epoch = summary[ckpt]["epoch"] if reached else summary["final_epoch"]
        if epoch not in history:
            raise FileContractError(f"{run_dir / 'history.csv'}: no row for epoch {epoch}")
        h = history[epoch]
        if math.isnan(h["test_loss"]) or math.isnan(h["test_acc"]):
            raise FileContractError(
                f"{run_dir / 'history.csv'}: the test set was not evaluated at {ckpt}'s epoch {epoch}"
            )
        rows.append(
            dict(
                **axes,
                **arch_columns(run["hidden"], n_inputs, n_classes),
                checkpoint=ckpt,
                reached=reached,
                diverged=bool(summary["diverged"]),
                epoch=epoch,
                updates=epoch * summary["batches_per_epoch"],
                train_loss=h["train_loss"],
                train_acc=h["train_acc"],
                test_loss=h["test_loss"],
                test_acc=h["test_acc"],
                gen_gap=h["train_acc"] - h["test_acc"],
                l2_seed=l2_seed(params),
                checkpoint_file=str(path),
                subset_file=summary["subset_file"],
            )
        )
    return rows
