"""Which measure tracks generalization: the criteria of Jiang et al. 2019 (arXiv 1912.02178).

Every ranked column of the measures table (complexity measures and baselines, raw and
sample-size adjusted) is compared with the test error of the runs, oriented so that
+1 means "a larger value goes with a larger error":

- Kendall's τ-b over all runs, per checkpoint, and within every cell of label mode ×
  checkpoint (§4);
- the granulated coefficient ψ_i of each axis i the study varies: τ over each slice of
  runs that differ only in axis i (and in seed: seeds are repeats, not an axis),
  averaged over the slices; Ψ, the mean of the ψ_i (§4);
- the conditional mutual information of §5: over pairs of runs that differ in at least
  one axis, the information that sign(Δμ) carries about sign(Δ error) given the pair's
  values of a set S of axes, normalised by H(sign Δ error | U_S), minimised over every
  S of at most two axes (and fewer than all of them, which would leave nothing to vary).

Unreached checkpoints, diverged runs and empty values are left out and counted.
"""
from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from scipy.stats import kendalltau

from .registry import ADJUSTED_SUFFIX, entry, ranked

SCOPE_COLUMNS = ["measure", "form", "scope", "tau", "p_value", "n", "left_out"]
GRANULATED_COLUMNS = ["measure", "form", "checkpoint", "axis", "value", "n_slices"]


def ranked_columns(table: pd.DataFrame) -> list[tuple[str, str, str]]:
    """(column, measure, form) of every ranked column of the table, raw before adjusted."""
    out = []
    for c in ranked(c for c in table.columns if _declared(c)):
        adjusted = c.endswith(ADJUSTED_SUFFIX)
        out.append((c, c[: -len(ADJUSTED_SUFFIX)] if adjusted else c, "adjusted" if adjusted else "raw"))
    return out


def _declared(column: str) -> bool:
    try:
        entry(column)
        return True
    except KeyError:
        return False


def oriented(table: pd.DataFrame, column: str) -> pd.Series:
    return entry(column).orientation * pd.to_numeric(table[column])


def test_error(table: pd.DataFrame) -> pd.Series:
    return 1.0 - table["test_acc"]


def trusted(table: pd.DataFrame) -> pd.Series:
    """Rows whose checkpoint was reached by a run that did not diverge."""
    return table["reached"].astype(bool) & ~table["diverged"].astype(bool)


def kendall(values, errors, min_n: int = 3) -> tuple[float, float, int]:
    """(τ-b, two-sided p, n) over the pairs where both are defined; NaN when undefined
    (fewer than ``min_n`` runs, or a constant side, where scipy returns NaN)."""
    v, e = np.asarray(values, float), np.asarray(errors, float)
    ok = np.isfinite(v) & np.isfinite(e)
    n = int(ok.sum())
    if n < min_n:
        return np.nan, np.nan, n
    tau, p = kendalltau(v[ok], e[ok])
    return float(tau), float(p), n


def scopes(table: pd.DataFrame) -> list[tuple[str, pd.Index]]:
    """``all``, ``checkpoint=c`` and ``label_mode=m,checkpoint=c``, in the table's order of values."""
    out = [("all", table.index)]
    checkpoints = list(dict.fromkeys(table["checkpoint"]))
    out += [(f"checkpoint={c}", table.index[table["checkpoint"] == c]) for c in checkpoints]
    for c in checkpoints:
        for m in dict.fromkeys(table["label_mode"]):
            idx = table.index[(table["checkpoint"] == c) & (table["label_mode"] == m)]
            out.append((f"label_mode={m},checkpoint={c}", idx))
    return out


def rank_correlations(table: pd.DataFrame) -> pd.DataFrame:
    """One row per (ranked column, scope): τ-b with the test error, its p-value, the runs
    used (n) and the runs of the scope left out (unreached, diverged or empty)."""
    ok, err = trusted(table), test_error(table)
    rows = []
    for column, measure, form in ranked_columns(table):
        values = oriented(table, column).where(ok)
        for scope, idx in scopes(table):
            tau, p, n = kendall(values.loc[idx], err.loc[idx])
            rows.append(dict(measure=measure, form=form, scope=scope, tau=tau, p_value=p, n=n, left_out=len(idx) - n))
    return pd.DataFrame(rows, columns=SCOPE_COLUMNS)


def granulated_psi(sub: pd.DataFrame, values: pd.Series, err: pd.Series, axis: str, axes: list[str]):
    """(ψ of ``axis``, number of slices): mean τ over the slices where only ``axis`` (and the seed)
    varies. A measure constant within a slice orders nothing there: that slice counts as τ = 0."""
    others = [a for a in axes if a != axis]
    slices = [g.index for _, g in sub.groupby(others, dropna=False)] if others else [sub.index]
    taus = []
    for idx in slices:
        if sub.loc[idx, axis].nunique() > 1:
            # a slice of a two-valued axis with one seed is two runs: τ is then ±1, as in Jiang et al.
            tau, _, _ = kendall(values.loc[idx], err.loc[idx], min_n=2)
            taus.append(tau if np.isfinite(tau) else 0.0)
    return (float(np.mean(taus)) if taus else np.nan), len(taus)


def conditional_mutual_information(sub: pd.DataFrame, values: pd.Series, err: pd.Series, axes: list[str]):
    """(min over conditioning sets S of Î(V_μ; V_g | U_S), number of run pairs used)."""
    keep = values.notna() & err.notna()
    sub, v, e = sub[keep], values[keep].to_numpy(), err[keep].to_numpy()
    i, j = np.where(~np.eye(len(sub), dtype=bool))
    codes = {a: pd.factorize(sub[a])[0] for a in axes}
    differ = np.zeros(len(i), bool)
    for a in axes:
        differ |= codes[a][i] != codes[a][j]
    i, j = i[differ], j[differ]
    if not len(i):
        return np.nan, 0
    vg, vm = np.sign(e[i] - e[j]), np.sign(v[i] - v[j])
    sets = [s for size in range(min(2, len(axes) - 1) + 1) for s in itertools.combinations(axes, size)]
    scores = [_normalised_cmi(vm, vg, [c for a in s for c in (codes[a][i], codes[a][j])]) for s in sets]
    scores = [s for s in scores if np.isfinite(s)]
    return (float(min(scores)) if scores else np.nan), len(i) // 2


def _normalised_cmi(vm: np.ndarray, vg: np.ndarray, conditions: list[np.ndarray]) -> float:
    """I(V_μ; V_g | U) / H(V_g | U), from counts; NaN when H(V_g | U) = 0."""
    u = pd.Series(list(zip(*conditions)) if conditions else [0] * len(vm))
    frame = pd.DataFrame({"u": pd.factorize(u)[0], "m": vm, "g": vg})
    n = len(frame)
    p_u = frame.groupby("u").size() / n
    p_umg = frame.groupby(["u", "m", "g"]).size() / n
    p_um = frame.groupby(["u", "m"]).size() / n
    p_ug = frame.groupby(["u", "g"]).size() / n
    keys = p_umg.index
    um = p_um.reindex(keys.droplevel("g")).to_numpy()
    ug = p_ug.reindex(keys.droplevel("m")).to_numpy()
    pu = p_u.reindex(keys.get_level_values("u")).to_numpy()
    mi = float(np.sum(p_umg.to_numpy() * np.log(p_umg.to_numpy() * pu / (um * ug))))
    gu = p_ug.to_numpy() / p_u.reindex(p_ug.index.get_level_values("u")).to_numpy()
    h = float(-np.sum(p_ug.to_numpy() * np.log(gu)))
    return mi / h if h > 0 else np.nan


def granulated_kendall(table: pd.DataFrame, axes: list[str]) -> pd.DataFrame:
    """Per (ranked column, checkpoint): ψ of every axis, their mean Ψ, and the CMI criterion."""
    ok, err = trusted(table), test_error(table)
    rows = []
    for column, measure, form in ranked_columns(table):
        values = oriented(table, column)
        for ckpt in dict.fromkeys(table["checkpoint"]):
            mask = ok & (table["checkpoint"] == ckpt) & values.notna()
            sub = table[mask]
            psis = []
            for axis in axes:
                psi, n = granulated_psi(sub, values[mask], err[mask], axis, axes)
                rows.append(dict(measure=measure, form=form, checkpoint=ckpt, axis=axis, value=psi, n_slices=n))
                if np.isfinite(psi):
                    psis.append(psi)
            rows.append(dict(measure=measure, form=form, checkpoint=ckpt, axis="Psi",
                             value=float(np.mean(psis)) if psis else np.nan, n_slices=len(psis)))
            cmi, pairs = conditional_mutual_information(sub, values[mask], err[mask], axes)
            rows.append(dict(measure=measure, form=form, checkpoint=ckpt, axis="CMI", value=cmi, n_slices=pairs))
    return pd.DataFrame(rows, columns=GRANULATED_COLUMNS)
