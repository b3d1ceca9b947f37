"""Which measure tracks generalization: the criteria of Jiang et al. 2019 (arXiv 1912.02178).

Every ranked column of the measures table (complexity measures and baselines, raw and
sample-size adjusted) is compared with the test error of the runs, oriented so that
+1 means "a larger value goes with a larger error":

- Kendall's τ-b over all runs, per checkpoint, and within every cell of label mode ×
  checkpoint (§4);
- the granulated coefficient ψ_i of each axis i the study varies: τ over each slice of
  runs that differ only in axis i, averaged over the slices; the seed is part of the
  slice (runs of different seeds are never compared inside it, since a pair that differs
  only by seed says nothing about the axis), so ψ_i is computed per seed and then
  averaged over seeds; Ψ, the mean of the ψ_i (§4);
- the conditional mutual information of §5: over pairs of runs that differ in at least
  one axis, the information that sign(Δμ) carries about sign(Δ error) given the pair's
  values of a set S of axes, normalised by H(sign Δ error | U_S), minimised over every
  S of at most two axes (and fewer than all of them, which would leave nothing to vary);
  beside it the PGDL competition's form of it (``pgdl_cmi``, on the generalization gap, as
  their scoring program computes it), named ``CMI_pgdl``.

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


def generalization_gap(table: pd.DataFrame) -> pd.Series:
    """Training accuracy − test accuracy: the outcome of Dziugaite et al. 2020 and of PGDL."""
    return table["train_acc"] - table["test_acc"]


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


def psi_per_seed(sub: pd.DataFrame, values: pd.Series, err: pd.Series, axis: str, axes: list[str]) -> dict:
    """{seed: (ψ of ``axis`` within that seed, number of slices)}: the mean τ over the slices
    of one seed's runs in which only ``axis`` varies. A measure constant within a slice
    orders nothing there: that slice counts as τ = 0."""
    others = [a for a in axes if a != axis]
    out = {}
    for seed, runs in sub.groupby("seed", sort=True):
        slices = [g.index for _, g in runs.groupby(others, dropna=False)] if others else [runs.index]
        taus = []
        for idx in slices:
            if runs.loc[idx, axis].nunique() > 1:
                # a slice of a two-valued axis is two runs: τ is then ±1, as in Jiang et al.
                tau, _, _ = kendall(values.loc[idx], err.loc[idx], min_n=2)
                taus.append(tau if np.isfinite(tau) else 0.0)
        if taus:
            out[seed] = (float(np.mean(taus)), len(taus))
    return out


def granulated_psi(sub: pd.DataFrame, values: pd.Series, err: pd.Series, axis: str, axes: list[str]):
    """(ψ of ``axis``, number of slices): ψ per seed (``psi_per_seed``), averaged over seeds."""
    per_seed = psi_per_seed(sub, values, err, axis, axes)
    if not per_seed:
        return np.nan, 0
    return float(np.mean([v for v, _ in per_seed.values()])), sum(n for _, n in per_seed.values())


def conditioning_sets(axes: list[str]) -> list[tuple[str, ...]]:
    """The sets S of the CMI criterion: every set of at most two axes, and fewer than all of
    them (conditioning on every axis would leave nothing to vary)."""
    return [s for size in range(min(2, len(axes) - 1) + 1) for s in itertools.combinations(axes, size)]


def pair_sign_counts(sub: pd.DataFrame, values, errors, axes: list[str], seeds: list | None = None):
    """For every conditioning set S (``conditioning_sets``): counts of (cell = the pair's values
    of S, sign Δμ, sign Δerror) over ordered pairs of runs that differ in at least one axis,
    split by the two runs' seeds: arrays (seeds, seeds, cells, 3, 3). With ``seeds`` None all
    runs count as one seed. Returns (arrays, number of unordered pairs)."""
    v, e = np.asarray(values, float), np.asarray(errors, float)
    keep = np.isfinite(v) & np.isfinite(e)
    sub, v, e = sub[keep], v[keep], e[keep]
    i, j = np.where(~np.eye(len(sub), dtype=bool))
    codes = {a: pd.factorize(sub[a])[0] for a in axes}
    differ = np.zeros(len(i), bool)
    for a in axes:
        differ |= codes[a][i] != codes[a][j]
    i, j = i[differ], j[differ]
    seed_index = np.zeros(len(sub), int) if seeds is None else pd.Index(seeds).get_indexer(sub["seed"])
    n_seeds = 1 if seeds is None else len(seeds)
    m, g = (np.sign(v[i] - v[j]) + 1).astype(int), (np.sign(e[i] - e[j]) + 1).astype(int)
    out = []
    for s in conditioning_sets(axes):
        parts = [c for a in s for c in (codes[a][i], codes[a][j])]
        u = pd.factorize(pd.Series(list(zip(*parts)), dtype=object))[0] if parts else np.zeros(len(i), int)
        block = np.zeros((n_seeds, n_seeds, int(u.max(initial=-1)) + 1, 3, 3))
        np.add.at(block, (seed_index[i], seed_index[j], u, m, g), 1.0)
        out.append(block)
    return out, len(i) // 2


def normalised_cmi_from_counts(counts: np.ndarray) -> np.ndarray:
    """Î(V_μ; V_g | U) / H(V_g | U) from pair counts of shape (..., U, 3, 3) (cell, sign Δμ,
    sign Δerror); NaN where H(V_g | U) = 0 or there are no pairs."""
    n = counts.sum(axis=(-3, -2, -1), keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = counts / np.where(n > 0, n, 1.0)
        p_u = p.sum(axis=(-2, -1), keepdims=True)
        p_um = p.sum(axis=-1, keepdims=True)
        p_ug = p.sum(axis=-2, keepdims=True)
        ratio = np.where(p > 0, p * p_u / np.where(p > 0, p_um * p_ug, 1.0), 1.0)
        mi = np.sum(np.where(p > 0, p * np.log(ratio), 0.0), axis=(-3, -2, -1))
        cond = np.where(p_ug > 0, p_ug / np.where(p_u > 0, p_u, 1.0), 1.0)
        h = -np.sum(np.where(p_ug > 0, p_ug * np.log(cond), 0.0), axis=(-3, -2, -1))
        return np.where(h > 1e-15, mi / np.where(h > 1e-15, h, 1.0), np.nan)


def minimum_over_sets(scores: list[np.ndarray]) -> np.ndarray:
    """The elementwise minimum over conditioning sets, ignoring the undefined ones."""
    stacked = np.vstack([np.atleast_1d(s) for s in scores]) if scores else np.full((1, 1), np.nan)
    finite = np.isfinite(stacked)
    return np.where(finite.any(axis=0), np.min(np.where(finite, stacked, np.inf), axis=0), np.nan)


def conditional_mutual_information(sub: pd.DataFrame, values: pd.Series, err: pd.Series, axes: list[str]):
    """(min over conditioning sets S of Î(V_μ; V_g | U_S) / H(V_g | U_S), number of run pairs used)."""
    blocks, pairs = pair_sign_counts(sub, values, err, axes)
    if not pairs:
        return np.nan, 0
    return float(minimum_over_sets([normalised_cmi_from_counts(b.sum(axis=(0, 1))) for b in blocks])[0]), pairs


def pgdl_cmi(sub: pd.DataFrame, values: pd.Series, gap: pd.Series, axes: list[str]) -> float:
    """The CMI as the PGDL competition scored it (Jiang et al. 2020, arXiv 2012.07976; the
    organisers' ``scoring_program/mutual_information.py``, Apache-2.0, copied in cadurosar/pgdl):

    - the outcome is the generalization gap ``gap`` (train − test accuracy), and both signs are
      binary: "+" when the first run's value is strictly larger, "−" otherwise (ties included);
    - every ordered pair of runs counts, a run with itself and seed repeats included;
    - for an ordered pair of axes (h1, h2), a pair of runs falls in the cell keyed by
      (h1 of run 1, h1 of run 2, h2 of run 1, h2 of run 2);
    - per cell the mutual information I(sign Δμ; sign Δgap) and the entropy H(sign Δgap) are
      taken, each averaged over the cells (unweighted), and the score is mean I / mean H;
    - the result is the minimum over ordered pairs of distinct axes.

    Differences, both where the reference gives no number: a cell with no pair (an incomplete
    grid, where a run did not reach the checkpoint) is left out, where the reference's average
    becomes NaN; a study of fewer than two axes gives NaN, where the reference gives +inf. Its
    cell keys are the values' strings concatenated, which can collide ("1"+"28" = "12"+"8");
    here they are tuples.
    """
    v, g = np.asarray(values, float), np.asarray(gap, float)
    keep = np.isfinite(v) & np.isfinite(g)
    sub, v, g = sub[keep], v[keep], g[keep]
    if len(axes) < 2 or len(sub) == 0:
        return np.nan
    i, j = (a.ravel() for a in np.meshgrid(np.arange(len(sub)), np.arange(len(sub)), indexing="ij"))
    gap_minus, measure_minus = (g[i] <= g[j]).astype(int), (v[i] <= v[j]).astype(int)
    codes = {axis: pd.factorize(sub[axis])[0] for axis in axes}
    scores = []
    for h1, h2 in itertools.permutations(axes, 2):
        k1, k2 = codes[h1].max() + 1, codes[h2].max() + 1
        cell = ((codes[h1][i] * k1 + codes[h1][j]) * k2 + codes[h2][i]) * k2 + codes[h2][j]
        table = np.zeros((k1 * k1 * k2 * k2, 2, 2))
        np.add.at(table, (cell, gap_minus, measure_minus), 1.0)
        table = table[table.sum(axis=(1, 2)) > 0]
        mean_h = float(np.mean([binary_entropy_bits(t.sum(axis=1)) for t in table]))
        if mean_h > 1e-15:
            scores.append(float(np.mean([mutual_information_bits(t) for t in table])) / mean_h)
    return float(min(scores)) if scores else np.nan


def mutual_information_bits(table: np.ndarray) -> float:
    """I(row; column) of a contingency table of counts, in bits."""
    p = table / table.sum()
    outer = np.outer(p.sum(axis=1), p.sum(axis=0))
    nz = p > 0
    return float(np.sum(p[nz] * np.log2(p[nz] / outer[nz])))


def binary_entropy_bits(counts: np.ndarray) -> float:
    """H of a distribution given by counts, in bits."""
    p = counts / counts.sum()
    p = p[p > 0]
    return float(-np.sum(p * np.log2(p)))


def granulated_kendall(table: pd.DataFrame, axes: list[str]) -> pd.DataFrame:
    """Per (ranked column, checkpoint): ψ of every axis, their mean Ψ, and the CMI criterion."""
    ok, err, gap = trusted(table), test_error(table), generalization_gap(table)
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
            rows.append(
                dict(
                    measure=measure,
                    form=form,
                    checkpoint=ckpt,
                    axis="Psi",
                    value=float(np.mean(psis)) if psis else np.nan,
                    n_slices=len(psis),
                )
            )
            cmi, pairs = conditional_mutual_information(sub, values[mask], err[mask], axes)
            rows.append(dict(measure=measure, form=form, checkpoint=ckpt, axis="CMI", value=cmi, n_slices=pairs))
            rows.append(
                dict(
                    measure=measure,
                    form=form,
                    checkpoint=ckpt,
                    axis="CMI_pgdl",
                    value=pgdl_cmi(sub, values[mask], gap[mask], axes),
                    n_slices=pairs,
                )
            )
    return pd.DataFrame(rows, columns=GRANULATED_COLUMNS)
