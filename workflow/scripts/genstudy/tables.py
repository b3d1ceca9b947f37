"""The measures table and the rank correlation of each measure with the test error."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import kendalltau

from .arrays import FileContractError
from .measures import measure_columns

KEYS = ["label_mode", "size", "seed", "checkpoint"]


def read_measure_records(paths) -> pd.DataFrame:
    rows = []
    for p in paths:
        try:
            doc = json.loads(Path(p).read_text())
            rows.append({**{k: doc[k] for k in KEYS}, **doc["measures"]})
        except (OSError, ValueError, KeyError) as exc:
            raise FileContractError(f"{p}: not a measures file ({exc})") from exc
    return pd.DataFrame(rows)


def join_measures(training: pd.DataFrame, measures: pd.DataFrame, top_k: int, depth: int) -> pd.DataFrame:
    """training.csv's rows, in its order, with one column per measure (empty where undefined)."""
    cols = [c for c in measure_columns(top_k, depth) if c not in training.columns]
    m = measures.reindex(columns=KEYS + cols)
    out = training.merge(m, on=KEYS, how="left", validate="one_to_one")
    missing = out[cols].isna().all(axis=1)
    if missing.any():
        raise FileContractError(f"no measures for rows {out.loc[missing, KEYS].to_dict('records')[:3]}")
    return out


def rank_correlations(table: pd.DataFrame, top_k: int, depth: int) -> pd.DataFrame:
    """Kendall's τ (tau-b) between each measure and the test error = 1 − test_acc.

    The criterion of Jiang et al. 2019 (arXiv 1912.02178, §6): a measure that tracks
    generalization ranks the runs as their test error does (τ near 1). Computed over
    all runs (every label mode, size, seed, both checkpoints) and per checkpoint;
    rows with an undefined measure are left out (``n`` says how many were used).
    """
    err = 1.0 - table["test_acc"]
    rows = []
    groups = [("all", table.index)] + [(c, table.index[table.checkpoint == c]) for c in table.checkpoint.unique()]
    for m in measure_columns(top_k, depth):
        if m not in table:
            continue
        for name, idx in groups:
            v = pd.to_numeric(table.loc[idx, m], errors="coerce")
            ok = v.notna() & err.loc[idx].notna()
            if ok.sum() >= 3 and v[ok].nunique() > 1:
                tau, p = kendalltau(v[ok], err.loc[idx][ok])
            else:
                tau, p = np.nan, np.nan
            rows.append(dict(measure=m, runs=name, tau=tau, p_value=p, n=int(ok.sum())))
    out = pd.DataFrame(rows)
    order = out[out.runs == "all"].sort_values("tau", ascending=False, na_position="last").measure.tolist()
    out["measure"] = pd.Categorical(out.measure, categories=order, ordered=True)
    return out.sort_values(["measure", "runs"]).reset_index(drop=True).astype({"measure": str})
