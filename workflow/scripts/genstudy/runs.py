"""Files of one training run, and the training table built from them."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np

from .arrays import FileContractError, load_params, save_json, save_npz
from .contract import CHECKPOINTS, HISTORY_COLUMNS
from .norms import l2_seed


def history_csv(history: np.ndarray) -> str:
    out = io.StringIO()
    out.write(",".join(HISTORY_COLUMNS) + "\n")
    for row in history:
        out.write(f"{int(row[0])}," + ",".join(repr(float(v)) for v in row[1:]) + "\n")
    return out.getvalue()


def write_training_outputs(result, settings, outputs: dict, run: dict, log=print) -> None:
    """acc1/loss0/final npz (an unreached checkpoint holds the final weights, reached=False),
    history.csv and summary.json; ``run`` (the job's wildcards) goes into the summary."""
    final_epoch = result.final_epoch
    ckpts = {
        "acc1": (result.acc1_epoch, result.acc1_params),
        "loss0": (result.loss0_epoch, result.final_params if result.loss0_epoch else None),
    }
    summary = {
        "run": run,
        "batches_per_epoch": result.batches_per_epoch,
        "final_epoch": final_epoch,
        "max_epochs": settings.max_epochs,
        "target_loss": settings.target_loss,
    }
    for name, (epoch, params) in ckpts.items():
        reached = epoch is not None
        save_npz(outputs[name], epoch=epoch if reached else final_epoch, reached=reached,
                 **(params if reached else result.final_params))
        summary[name] = {"reached": reached, "epoch": epoch}
        log(f"{name}: " + (f"reached at epoch {epoch}" if reached else f"not reached by epoch {final_epoch}"))
    save_npz(outputs["final"], epoch=final_epoch, reached=True, **result.final_params)
    hist_path = Path(outputs["history"])
    tmp = hist_path.with_name(f".{hist_path.name}.tmp")
    tmp.write_text(history_csv(result.history))
    tmp.replace(hist_path)
    save_json(outputs["summary"], summary)


TRAINING_COLUMNS = ("label_mode", "size", "seed", "checkpoint", "reached", "epoch", "updates",
                    "train_loss", "train_acc", "test_loss", "test_acc", "gen_gap", "l2_seed")


def read_history(path) -> dict[int, dict]:
    path = Path(path)
    try:
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
        return {int(r["epoch"]): {k: float(v) for k, v in r.items()} for r in rows}
    except (OSError, KeyError, ValueError) as exc:
        raise FileContractError(f"{path}: not a training history ({exc})") from exc


def run_rows(run_dir) -> list[dict]:
    """One row per checkpoint of one run; an unreached one reports the final weights."""
    run_dir = Path(run_dir)
    try:
        summary = json.loads((run_dir / "summary.json").read_text())
        label_mode, size, seed = (summary["run"][k] for k in ("label_mode", "size", "seed"))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise FileContractError(f"{run_dir / 'summary.json'}: unreadable ({type(exc).__name__}: {exc})") from exc
    history = read_history(run_dir / "history.csv")
    rows = []
    for ckpt in CHECKPOINTS:
        params = load_params(run_dir / f"{ckpt}.npz")
        reached = bool(summary[ckpt]["reached"])
        epoch = summary[ckpt]["epoch"] if reached else summary["final_epoch"]
        if epoch not in history:
            raise FileContractError(f"{run_dir / 'history.csv'}: no row for epoch {epoch}")
        h = history[epoch]
        rows.append(dict(
            label_mode=label_mode, size=size, seed=seed, checkpoint=ckpt, reached=reached,
            epoch=epoch, updates=epoch * summary["batches_per_epoch"],
            train_loss=h["train_loss"], train_acc=h["train_acc"], test_loss=h["test_loss"],
            test_acc=h["test_acc"], gen_gap=h["train_acc"] - h["test_acc"], l2_seed=l2_seed(params),
        ))
    return rows
