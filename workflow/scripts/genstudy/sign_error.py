"""Robust sign error of every ranked column (Dziugaite et al. 2020, arXiv 2010.11924, §3–4).

An environment is a pair of settings of the study's axes that differ in exactly one
axis (a size and the next one, or two label modes at one size, …); seeds are repeats
inside it. For every pair of runs (one of each setting, any two seeds) the sign error
of a measure μ is

    ½ (1 − sign(Δμ) · sign(Δ test error)),

1 when μ orders the two runs against their error, 0 when with it, ½ on a tie of μ.
Dziugaite et al. weight a pair by how sure its error difference is: the two test
errors come from ``test_size`` examples each, so by Hoeffding's inequality an
observed difference Δ has the right sign with probability at least
1 − 2 exp(−test_size · Δ² / 2) (the difference of two means of [0, 1] variables has
range 2); the weight is that bound, clipped at 0. A pair whose difference is within
test-set noise gets weight ~0. An environment's sign error is the weighted mean over its
pairs; one with zero total weight is unresolved and left out (counted). A measure that
is constant over a checkpoint's runs (the parameter count of one architecture) orders
nothing and gets no summary there. The result is
a distribution over environments, summarised by its mean, 10th and 90th percentile and
its worst case (the maximum): a measure that is robust has a small worst case, not
only a small mean.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from .ranking import oriented, ranked_columns, test_error, trusted

SUMMARY_COLUMNS = ["measure", "form", "checkpoint", "axis", "environments", "resolved", "mean", "p10", "p90", "worst"]
ENVIRONMENT_COLUMNS = ["measure", "form", "checkpoint", "axis", "environment", "sign_error", "weight"]


def hoeffding_weight(delta_error, test_size: int):
    """max(0, 1 − 2 exp(−test_size Δ² / 2)): a lower bound on the probability that an observed
    test-error difference Δ between two models has the sign of the true one."""
    d = np.asarray(delta_error, float)
    return np.clip(1.0 - 2.0 * np.exp(-test_size * d**2 / 2.0), 0.0, None)


def environments(sub: pd.DataFrame, axes: list[str]):
    """(axis, setting a, setting b, row labels of a, row labels of b) for every pair of settings
    that differ in exactly one axis, in the table's order."""
    groups = {k if isinstance(k, tuple) else (k,): g.index for k, g in sub.groupby(axes, sort=False, dropna=False)}
    out = []
    for (a, ia), (b, ib) in itertools.combinations(groups.items(), 2):
        differ = [axis for axis, x, y in zip(axes, a, b) if x != y]
        if len(differ) == 1:
            out.append((differ[0], a, b, ia, ib))
    return out


def environment_sign_error(values: pd.Series, errors: pd.Series, rows_a, rows_b, test_size: int):
    """(weighted sign error, total weight) over every pair of a run of ``rows_a`` and one of
    ``rows_b`` where the measure is defined; NaN when the total weight is 0."""
    va, vb = values.loc[rows_a].to_numpy(float), values.loc[rows_b].to_numpy(float)
    ea, eb = errors.loc[rows_a].to_numpy(float), errors.loc[rows_b].to_numpy(float)
    dv, de = va[:, None] - vb[None, :], ea[:, None] - eb[None, :]
    ok = np.isfinite(dv) & np.isfinite(de)
    w = np.where(ok, hoeffding_weight(np.where(ok, de, 0.0), test_size), 0.0)
    err = 0.5 * (1.0 - np.sign(np.where(ok, dv, 0.0)) * np.sign(np.where(ok, de, 0.0)))
    total = float(w.sum())
    return (float((w * err).sum() / total) if total > 0 else np.nan), total


def robust_sign_error(table: pd.DataFrame, axes: list[str], test_size: int):
    """(summary, environments): per ranked column, checkpoint and axis (and over all axes,
    ``axis = all``) the distribution of sign errors over environments."""
    ok, err = trusted(table), test_error(table)
    rows, summary = [], []
    for ckpt in dict.fromkeys(table["checkpoint"]):
        sub = table[ok & (table["checkpoint"] == ckpt)]
        envs = environments(sub, axes) if axes else []
        for column, measure, form in ranked_columns(table):
            values = oriented(table, column)
            if values.loc[sub.index].nunique() < 2:
                # a measure constant over these runs orders nothing: sign error ½ everywhere, by fiat
                summary += [summarise(np.array([]), measure, form, ckpt, axis) for axis in ["all", *axes]]
                continue
            found = []
            for axis, a, b, ia, ib in envs:
                e, w = environment_sign_error(values, err, ia, ib, test_size)
                found.append((axis, e))
                rows.append(
                    dict(
                        measure=measure,
                        form=form,
                        checkpoint=ckpt,
                        axis=axis,
                        environment=f"{a} vs {b}",
                        sign_error=e,
                        weight=w,
                    )
                )
            for axis in ["all", *axes]:
                errors = np.array([e for x, e in found if axis in ("all", x)], float)
                summary.append(summarise(errors, measure, form, ckpt, axis))
    return pd.DataFrame(summary, columns=SUMMARY_COLUMNS), pd.DataFrame(rows, columns=ENVIRONMENT_COLUMNS)


def summarise(errors: np.ndarray, measure: str, form: str, checkpoint: str, axis: str) -> dict:
    resolved = errors[np.isfinite(errors)]
    stats = dict(mean=np.nan, p10=np.nan, p90=np.nan, worst=np.nan)
    if len(resolved):
        p10, p90 = np.percentile(resolved, [10, 90])
        stats = dict(mean=float(resolved.mean()), p10=float(p10), p90=float(p90), worst=float(resolved.max()))
    return dict(
        measure=measure,
        form=form,
        checkpoint=checkpoint,
        axis=axis,
        environments=len(errors),
        resolved=len(resolved),
        **stats,
    )
