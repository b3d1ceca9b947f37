"""Robust sign error of every ranked column (Dziugaite et al. 2020, "In search of robust
measures of generalization", arXiv 2010.11924v2, §3–4 and their code,
nitarshan/robust-generalization-measures, ``experiments/coupled_networks``).

An environment is a pair of settings of the study's axes that differ in exactly one
axis (a size and the next one, or two label modes at one size, …); seeds are repeats
inside it. For every pair of runs (one of each setting, any two seeds) the sign error
of a measure μ is

    ½ (1 − sign(Δμ) · sign(Δg)),

1 when μ orders the two runs against their outcome g, 0 when with it, ½ on a tie of μ.
A pair is weighted by how sure the sign of Δg is: g is measured on ``test_size`` examples,
so by Hoeffding's inequality an observed difference Δ has the true sign with probability at
least p(Δ) = max(0, 1 − 2 exp(−test_size · Δ² / 2)). An environment's sign error is the
weighted mean over its pairs. Two weightings are reported, as rows of one table
(``WEIGHTINGS``):

- ``dziugaite2020``, the paper's: g is the generalization gap (train − test accuracy, their
  ``gen.gap``); the weight is p(Δ)², less a threshold (0.5), clipped at 0
  (``create_environments.py``); an environment counts only when its effective sample size
  (Σw)² / Σw² is at least ``min_ess`` (12 in ``figure_cdf_all_measures.py``); others are
  unresolved. With s seeds an environment has s² pairs, so 3 seeds (at most 9) resolve none.
- ``linear``, this workflow's first form: g is the test error; the weight is p(Δ) itself, with
  no threshold, and any environment with a positive total weight counts.

At the checkpoints the training accuracy is 1 or nearly, so the gap and the test error
differ by at most the training error. A measure that is constant over a checkpoint's runs
(the parameter count of one architecture) orders nothing and gets no summary there. Per
measure the result is a distribution over environments, summarised by its mean, 10th and 90th
percentile and its worst case (the maximum), with the effective sample size of the worst
environment: a measure that is robust has a small worst case, not only a small mean.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .ranking import generalization_gap, oriented, ranked_columns, test_error, trusted

SUMMARY_COLUMNS = [
    "weighting",
    "measure",
    "form",
    "checkpoint",
    "axis",
    "environments",
    "resolved",
    "mean",
    "p10",
    "p90",
    "worst",
    "worst_ess",
]
ENVIRONMENT_COLUMNS = [
    "weighting",
    "measure",
    "form",
    "checkpoint",
    "axis",
    "environment",
    "sign_error",
    "weight",
    "effective_sample_size",
]


@dataclass(frozen=True)
class Weighting:
    """How pairs are weighted and environments kept: one row of the sign-error table."""

    outcome: Callable[[pd.DataFrame], pd.Series]
    squared: bool  # weight p(Δ)² instead of p(Δ)
    threshold: float  # a pair's weight is (w − threshold)_+
    min_ess: float  # environments of smaller effective sample size are unresolved


def weightings(weight_threshold: float = 0.5, min_ess: float = 12.0) -> dict[str, Weighting]:
    """The reported weightings, the paper's first (its threshold and minimum ESS from the config)."""
    return {
        "dziugaite2020": Weighting(generalization_gap, True, weight_threshold, min_ess),
        "linear": Weighting(test_error, False, 0.0, 0.0),
    }


def hoeffding_weight(delta, test_size: int):
    """max(0, 1 − 2 exp(−test_size Δ² / 2)): a lower bound on the probability that an observed
    difference Δ of two accuracies on ``test_size`` examples has the sign of the true one."""
    d = np.asarray(delta, float)
    return np.clip(1.0 - 2.0 * np.exp(-test_size * d**2 / 2.0), 0.0, None)


def pair_weight(delta, test_size: int, weighting: Weighting):
    """A pair's weight under ``weighting``: p(Δ) or p(Δ)², less its threshold, clipped at 0."""
    p = hoeffding_weight(delta, test_size)
    return np.clip((p**2 if weighting.squared else p) - weighting.threshold, 0.0, None)


def effective_sample_size(weights) -> float:
    """(Σw)² / Σw² (Kish): how many equally weighted pairs the weights are worth; 0 when all are 0."""
    w = np.asarray(weights, float)
    squares = float((w**2).sum())
    return float(w.sum() ** 2 / squares) if squares > 0 else 0.0


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


def environment_sign_error(values: pd.Series, outcome: pd.Series, rows_a, rows_b, test_size: int, weighting):
    """(weighted sign error, total weight, effective sample size) over every pair of a run of
    ``rows_a`` and one of ``rows_b`` where the measure is defined; the error is NaN when the
    total weight is 0 or the effective sample size is below the weighting's minimum."""
    va, vb = values.loc[rows_a].to_numpy(float), values.loc[rows_b].to_numpy(float)
    ga, gb = outcome.loc[rows_a].to_numpy(float), outcome.loc[rows_b].to_numpy(float)
    dv, dg = va[:, None] - vb[None, :], ga[:, None] - gb[None, :]
    ok = np.isfinite(dv) & np.isfinite(dg)
    w = np.where(ok, pair_weight(np.where(ok, dg, 0.0), test_size, weighting), 0.0)
    err = 0.5 * (1.0 - np.sign(np.where(ok, dv, 0.0)) * np.sign(np.where(ok, dg, 0.0)))
    total, ess = float(w.sum()), effective_sample_size(w)
    kept = total > 0 and (ess >= weighting.min_ess or np.isclose(ess, weighting.min_ess))
    return (float((w * err).sum() / total) if kept else np.nan), total, ess


def robust_sign_error(table: pd.DataFrame, axes: list[str], test_size: int, weighting_table=None):
    """(summary, environments): per weighting, ranked column, checkpoint and axis (and over all
    axes, ``axis = all``) the distribution of sign errors over environments."""
    ok = trusted(table)
    rows, summary = [], []
    for name, weighting in (weighting_table or weightings()).items():
        outcome = weighting.outcome(table)
        for ckpt in dict.fromkeys(table["checkpoint"]):
            sub = table[ok & (table["checkpoint"] == ckpt)]
            envs = environments(sub, axes) if axes else []
            for column, measure, form in ranked_columns(table):
                keys = dict(weighting=name, measure=measure, form=form, checkpoint=ckpt)
                values = oriented(table, column)
                if values.loc[sub.index].nunique() < 2:
                    # a measure constant over these runs orders nothing: sign error ½ everywhere, by fiat
                    summary += [summarise([], keys, axis) for axis in ["all", *axes]]
                    continue
                found = []
                for axis, a, b, ia, ib in envs:
                    e, w, ess = environment_sign_error(values, outcome, ia, ib, test_size, weighting)
                    found.append((axis, e, ess))
                    rows.append(
                        dict(
                            **keys,
                            axis=axis,
                            environment=f"{a} vs {b}",
                            sign_error=e,
                            weight=w,
                            effective_sample_size=ess,
                        )
                    )
                for axis in ["all", *axes]:
                    summary.append(summarise([(e, n) for x, e, n in found if axis in ("all", x)], keys, axis))
    return pd.DataFrame(summary, columns=SUMMARY_COLUMNS), pd.DataFrame(rows, columns=ENVIRONMENT_COLUMNS)


def summarise(found, keys: dict, axis: str) -> dict:
    """The distribution of ``found`` ((sign error, effective sample size) per environment; NaN
    errors are unresolved) as one summary row."""
    errors = np.array([e for e, _ in found], float)
    ess = np.array([n for _, n in found], float)
    ok = np.isfinite(errors)
    resolved = errors[ok]
    stats = dict(mean=np.nan, p10=np.nan, p90=np.nan, worst=np.nan, worst_ess=np.nan)
    if len(resolved):
        p10, p90 = np.percentile(resolved, [10, 90])
        worst = int(np.argmax(resolved))
        stats = dict(
            mean=float(resolved.mean()),
            p10=float(p10),
            p90=float(p90),
            worst=float(resolved[worst]),
            worst_ess=float(ess[ok][worst]),
        )
    return dict(**keys, axis=axis, environments=len(errors), resolved=len(resolved), **stats)


def checkpoint_summary(summary: pd.DataFrame, checkpoint: str, weighting: str) -> pd.DataFrame:
    """The summary rows of one checkpoint in one weighting, over every axis at once, raw forms."""
    return summary[
        (summary.checkpoint == checkpoint)
        & (summary.axis == "all")
        & (summary.form == "raw")
        & (summary.weighting == weighting)
    ]
