"""The measures table: the training table joined with every checkpoint's measures, their
sample-size-adjusted forms and the baselines."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .arrays import FileContractError, load_json, save_text
from .identity import check_identity
from .labels import label_noise
from .pages import html_view
from .registry import ADJUSTED_SUFFIX, adjusted, check_record, columns, entry
from .runs import RUN_KEYS, TRAINING_COLUMNS
from .study import hidden_key

ROW_KEYS = [*RUN_KEYS, "checkpoint"]  # a row of the tables: one run at one checkpoint

# Baselines: what any measure must beat to be said to track generalization.
BASELINES = {
    "baseline_label_noise": lambda t: t["label_mode"].map(label_noise),
    "baseline_inverse_m": lambda t: 1.0 / t["size"],
    "baseline_updates": lambda t: t["updates"].astype(float),
}


def read_measure_records(paths, expected: list[dict] | None = None) -> pd.DataFrame:
    """One row per measures JSON: the run's keys and its measures, checked against the registry.
    With ``expected`` (one ``identity.run_identity`` plus ``checkpoint`` per path) each record
    must be that study's, run's and checkpoint's."""
    rows = []
    for i, p in enumerate(paths):
        doc = load_json(p, ["run", "checkpoint", "measures"])
        if expected is not None:
            check_identity(p, {k: doc.get(k) for k in ("study", "run", "checkpoint")}, expected[i])
        try:
            check_record(doc["measures"])
            run = {**doc["run"], "hidden": hidden_key(doc["run"]["hidden"]), "checkpoint": doc["checkpoint"]}
            rows.append({**{k: run[k] for k in ROW_KEYS}, **doc["measures"]})
        except (KeyError, TypeError) as exc:
            raise FileContractError(f"{p}: not a measures record ({type(exc).__name__}: {exc})") from exc
    return pd.DataFrame(rows)


def join_measures(training: pd.DataFrame, measures: pd.DataFrame) -> pd.DataFrame:
    """training.csv's rows, in its order, with one column per measure (empty where undefined),
    then the baselines, then every ranked column's adjusted form ``<name>_adj``."""
    depth, top_k = int(training["depth"].max()), _top_k(measures)
    cols = [c for c in columns(depth, top_k) if c not in training.columns and c not in BASELINES]
    m = measures.reindex(columns=ROW_KEYS + cols)
    out = training.merge(m, on=ROW_KEYS, how="left", validate="one_to_one")
    missing = out[cols].isna().all(axis=1)
    if missing.any():
        raise FileContractError(f"no measures for rows {out.loc[missing, ROW_KEYS].to_dict('records')[:3]}")
    for name, baseline in BASELINES.items():
        out[name] = baseline(out)
    ranked = [c for c in columns(depth, top_k) if entry(c).adjust]  # complexity measures and baselines
    adjusted = {
        f"{c}{ADJUSTED_SUFFIX}": [adjusted_value(v, m, entry(c).adjust) for v, m in zip(out[c], out["size"])]
        for c in ranked
    }
    return out.assign(**adjusted)


def adjusted_value(value, m, how) -> float:
    """The adjusted form of one cell; NaN where it is undefined (an empty cell is NaN too)."""
    if value is None or pd.isna(value):
        return np.nan
    a = adjusted(float(value), int(m), how)
    return np.nan if a is None else a


def _top_k(measures: pd.DataFrame) -> int:
    return max(
        [
            int(c.rsplit("_", 1)[1])
            for c in measures.columns
            if c.startswith("hessian_eig_") and c.rsplit("_", 1)[1].isdigit()
        ]
        or [0]
    )


def read_training(path) -> pd.DataFrame:
    """training.csv with the column types the tables rely on; errors name the file."""
    try:
        t = pd.read_csv(path, dtype={"hidden": str})  # "64" stays the architecture "64", not a number
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise FileContractError(f"{path}: unreadable table ({exc})") from exc
    if list(t.columns) != list(TRAINING_COLUMNS):
        raise FileContractError(f"{path}: columns {list(t.columns)} are not the training table's")
    return t


def save_csv(table: pd.DataFrame, csv_path) -> None:
    """A table as CSV, written atomically (a killed job leaves no half table behind)."""
    save_text(csv_path, table.to_csv(index=False))


def save_table(table: pd.DataFrame, csv_path, html_path, title: str) -> None:
    """A table as CSV (for tools) and as the HTML page the report shows, which links that CSV."""
    save_csv(table, csv_path)
    save_text(html_path, html_view(table, title, Path(csv_path).name))
