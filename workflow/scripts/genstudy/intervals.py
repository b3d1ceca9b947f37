"""Bootstrap intervals over seeds for every ranking criterion, and paired differences.

The resampling unit is the seed, not the row: a seed's runs share their initial
weights, subset draws and label draws, so rows of one seed are not independent. A
bootstrap draw takes S seeds with replacement from the study's S seeds; a seed drawn
twice contributes its runs twice. Every criterion is written in a form where such a
draw only re-weights per-seed pieces, so nothing is recomputed per draw:

- τ-b is a ratio of pair counts (concordant − discordant, pairs not tied in the
  measure, pairs not tied in the error). Counting ordered pairs (i, j) over the seed
  blocks once gives S × S matrices K; a draw with seed multiplicities c has counts
  cᵀ K c. A row paired with its own copy is tied on both sides, so it adds equally to
  the total and to both tie counts and cancels from τ-b's denominator.
- ψ is averaged per seed (``ranking.psi_per_seed``): a draw averages those values
  with the multiplicities as weights; Ψ is the mean of the axes' ψ in the same draw.
- the CMI criterion is a function of the counts of (conditioning cell, sign Δμ,
  sign Δerror) over ordered pairs: again a quadratic form of per-seed-pair counts.

Intervals are the estimate ± Student's t quantile times the bootstrap standard error
(``bootstrap_interval``: with few seeds, percentile intervals are far too narrow); with
one seed there is nothing to resample and the interval is left empty. The paired difference of a measure to a baseline is taken
draw by draw (the same seeds for both), so it accounts for their correlation; an
interval that excludes 0 is a resolved difference, any other is reported unresolved.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd

from .ranking import (
    minimum_over_sets,
    normalised_cmi_from_counts,
    oriented,
    pair_sign_counts,
    psi_per_seed,
    ranked_columns,
    scopes,
    test_error,
    trusted,
)
from .registry import entry


def interval_text(row) -> str:
    """An estimate with its interval, as the findings print it: ``+0.23 [+0.11, +0.35]``."""
    if not np.isfinite(row["ci_low"]):
        return f"{row['value']:+.2f} (no interval)"
    return f"{row['value']:+.2f} [{row['ci_low']:+.2f}, {row['ci_high']:+.2f}]"


INTERVAL_COLUMNS = ["measure", "form", "scope", "criterion", "value", "ci_low", "ci_high", "n_seeds", "draws"]
DIFFERENCE_COLUMNS = ["measure", "form", "baseline", "scope", "criterion", "difference", "ci_low", "ci_high", "verdict"]


def seed_draws(n_seeds: int, draws: int, rng: np.random.Generator) -> np.ndarray:
    """(draws, n_seeds) multiplicities of the seeds in each bootstrap draw; row 0 is the
    sample itself (every seed once), the point estimate."""
    counts = rng.multinomial(n_seeds, np.full(n_seeds, 1.0 / n_seeds), size=draws)
    return np.vstack([np.ones((1, n_seeds), dtype=np.int64), counts]).astype(float)


def _one_hot(seed_index: np.ndarray, n_seeds: int) -> np.ndarray:
    return (seed_index[:, None] == np.arange(n_seeds)[None, :]).astype(float)


def tau_blocks(seed_index, values, errors, n_seeds: int, pair_mask=None) -> dict:
    """S × S matrices over ordered row pairs (i in seed s, j in seed t) of τ-b's counts:
    ``cd`` Σ sign Δμ · sign Δerr, ``n`` pairs, ``tx``/``ty`` pairs tied in μ/in the error; and
    ``rows``, the defined rows of each seed.
    Rows where either side is undefined take part in no pair; ``pair_mask`` (n × n,
    boolean) keeps only some pairs."""
    v, e = np.asarray(values, float), np.asarray(errors, float)
    ok = np.isfinite(v) & np.isfinite(e)
    valid = ok[:, None] & ok[None, :]
    if pair_mask is not None:
        valid &= pair_mask | np.eye(len(v), dtype=bool)  # a row's pair with its own copy stays: it cancels
    with np.errstate(invalid="ignore"):
        sx = np.sign(v[:, None] - v[None, :])
        sy = np.sign(e[:, None] - e[None, :])
    sx, sy = np.where(valid, sx, 0.0), np.where(valid, sy, 0.0)
    one_hot = _one_hot(np.asarray(seed_index), n_seeds)
    quantities = {"cd": sx * sy, "n": valid.astype(float), "tx": valid & (sx == 0), "ty": valid & (sy == 0)}
    out = {k: one_hot.T @ np.asarray(q, float) @ one_hot for k, q in quantities.items()}
    out["rows"] = one_hot[ok].sum(axis=0)  # rows per seed where both sides are defined
    return out


def tau_b_draws(blocks: dict, counts: np.ndarray, min_n: int = 3) -> np.ndarray:
    """τ-b of every draw (rows of ``counts``); NaN where a side is constant, and everywhere when
    the sample has fewer than ``min_n`` rows where both sides are defined (as ``ranking.kendall``)."""
    if blocks["rows"].sum() < min_n:
        return np.full(len(counts), np.nan)
    t = {k: np.einsum("bs,st,bt->b", counts, blocks[k], counts) for k in ("cd", "n", "tx", "ty")}
    den = np.sqrt(np.clip(t["n"] - t["tx"], 0, None) * np.clip(t["n"] - t["ty"], 0, None))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, t["cd"] / np.where(den > 0, den, 1.0), np.nan)


def psi_draws(per_seed: dict, seeds: list, counts: np.ndarray) -> np.ndarray:
    """ψ of every draw: the per-seed ψ averaged with the draw's multiplicities."""
    psi = np.array([per_seed[s][0] if s in per_seed else np.nan for s in seeds])
    have = np.isfinite(psi)
    weights = counts[:, have]
    total = weights.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, weights @ psi[have] / np.where(total > 0, total, 1.0), np.nan)


def cmi_draws(sub: pd.DataFrame, values, errors, axes: list[str], seeds: list, counts: np.ndarray) -> np.ndarray:
    """The CMI criterion (minimum over conditioning sets) of every draw."""
    blocks, pairs = pair_sign_counts(sub, values, errors, axes, seeds)
    if not pairs:
        return np.full(len(counts), np.nan)
    return minimum_over_sets(
        [normalised_cmi_from_counts(np.einsum("bs,bt,stkmg->bkmg", counts, counts, b)) for b in blocks]
    )


def criterion_draws(table: pd.DataFrame, column: str, axes: list[str], counts: np.ndarray, seeds: list) -> dict:
    """{(scope, criterion): draws}: τ-b per scope (and between sizes only, where sizes vary),
    ψ per axis, Ψ and CMI per checkpoint; element 0 of each is the point estimate."""
    ok, err = trusted(table), test_error(table)
    values = oriented(table, column).where(ok)
    seed_index = pd.Index(seeds).get_indexer(table["seed"])
    out = {}
    for scope, idx in scopes(table):
        v, e, s = values.loc[idx].to_numpy(), err.loc[idx].to_numpy(), seed_index[table.index.get_indexer(idx)]
        out[(scope, "tau")] = tau_b_draws(tau_blocks(s, v, e, len(seeds)), counts)
        if "size" in axes:
            n = table.loc[idx, "size"].to_numpy()
            between = n[:, None] != n[None, :]
            out[(scope, "tau_between_sizes")] = tau_b_draws(tau_blocks(s, v, e, len(seeds), between), counts)
    for ckpt in dict.fromkeys(table["checkpoint"]):
        mask = ok & (table["checkpoint"] == ckpt) & values.notna()
        sub, scope = table[mask], f"checkpoint={ckpt}"
        psis = []
        for axis in axes:
            draws = psi_draws(psi_per_seed(sub, values[mask], err[mask], axis, axes), seeds, counts)
            out[(scope, f"psi_{axis}")] = draws
            psis.append(draws)
        if psis:
            stacked = np.vstack(psis)
            finite = np.isfinite(stacked)
            total = np.where(finite, stacked, 0.0).sum(axis=0)
            out[(scope, "Psi")] = np.where(finite.any(axis=0), total / np.maximum(finite.sum(axis=0), 1), np.nan)
        out[(scope, "CMI")] = cmi_draws(sub, values[mask], err[mask], axes, seeds, counts)
    return out


def bootstrap_interval(draws: np.ndarray, confidence: float, n_seeds: int, bounds=(-np.inf, np.inf)):
    """(low, high): the estimate (element 0) ± t_{S−1} · the bootstrap standard error.

    The standard error is the spread of the seed-bootstrap draws, scaled by √(S/(S−1))
    (a bootstrap over S clusters shrinks the variance by (S−1)/S), and the quantile is
    Student's t with S − 1 degrees of freedom rather than the normal one: with three seeds
    a plain percentile interval covers a known τ about half as often as it claims
    (``tests/test_intervals.py``). NaN with fewer than two seeds or an undefined draw;
    clipped to the criterion's ``bounds``.
    """
    from scipy.stats import t as student

    boot = draws[1:]
    if n_seeds < 2 or len(boot) < 2 or not np.all(np.isfinite(draws)):
        return np.nan, np.nan
    se = float(np.std(boot, ddof=1)) * math.sqrt(n_seeds / (n_seeds - 1))
    half = float(student.ppf(0.5 + confidence / 2.0, n_seeds - 1)) * se
    return float(max(draws[0] - half, bounds[0])), float(min(draws[0] + half, bounds[1]))


def seeds_for_half_width(half_width: float, n_seeds: int, confidence: float, target: float, most: int = 1000):
    """The fewest seeds S whose interval (``bootstrap_interval``) would have half-width ≤ ``target``,
    from an interval of ``half_width`` over ``n_seeds`` seeds: the per-seed spread σ = s.e. · √n_seeds
    held fixed, the half-width at S is t_{S−1} · σ / √S. NaN where there is no interval; ``most`` + 1
    when even ``most`` seeds would not do."""
    from scipy.stats import t as student

    if n_seeds < 2 or not np.isfinite(half_width):
        return np.nan
    q = 0.5 + confidence / 2.0
    sigma = half_width / float(student.ppf(q, n_seeds - 1)) * math.sqrt(n_seeds)
    for s in range(2, most + 1):
        if float(student.ppf(q, s - 1)) * sigma / math.sqrt(s) <= target:
            return s
    return most + 1


CRITERION_BOUNDS = {"CMI": (0.0, 1.0)}  # τ, ψ and Ψ lie in [−1, 1]


def verdict(low: float, high: float) -> str:
    if not (np.isfinite(low) and np.isfinite(high)):
        return "unresolved (no interval)"
    if low > 0:
        return "measure better"
    if high < 0:
        return "baseline better"
    return "unresolved"


def ranking_intervals(table: pd.DataFrame, axes: list[str], draws: int, confidence: float, seed: int):
    """(intervals, paired differences): every ranked column's criteria with t-scaled
    intervals (``bootstrap_interval``) from ``draws`` seed-bootstrap draws, and each measure's difference to each
    baseline of the same form, criterion by criterion, draw by draw."""
    seeds = sorted(table["seed"].unique().tolist())
    rng = np.random.default_rng(seed)
    counts = seed_draws(len(seeds), draws, rng) if len(seeds) > 1 else np.ones((1, len(seeds)))
    columns = ranked_columns(table)
    results = {col: criterion_draws(table, col, axes, counts, seeds) for col, _, _ in columns}
    rows, diffs = [], []
    for col, measure, form in columns:
        for (scope, criterion), d in results[col].items():
            low, high = bootstrap_interval(d, confidence, len(seeds), CRITERION_BOUNDS.get(criterion, (-1.0, 1.0)))
            rows.append(
                dict(
                    measure=measure,
                    form=form,
                    scope=scope,
                    criterion=criterion,
                    value=d[0],
                    ci_low=low,
                    ci_high=high,
                    n_seeds=len(seeds),
                    draws=len(d) - 1,
                )
            )
    baselines = [(c, m, f) for c, m, f in columns if entry(c).kind == "baseline"]
    for (col, measure, form), (bcol, baseline, bform) in itertools.product(columns, baselines):
        if bform != form or col == bcol:
            continue
        for key, d in results[col].items():
            diffs.append(difference_row(measure, form, baseline, key, d - results[bcol][key], confidence, len(seeds)))
    diffs += differences_to_the_top(results, columns, confidence, len(seeds))
    return pd.DataFrame(rows, columns=INTERVAL_COLUMNS), pd.DataFrame(diffs, columns=DIFFERENCE_COLUMNS)


def differences_to_the_top(results: dict, columns: list, confidence: float, n_seeds: int) -> list[dict]:
    """Per form, scope and criterion: every other column minus the complexity measure with the
    highest estimate, ``baseline = "top: <measure>"``. The top one is a resolved winner only if
    every such interval lies below 0 (verdict "baseline better" for all of them)."""
    out = []
    for form in dict.fromkeys(f for _, _, f in columns):
        cols = [(c, m) for c, m, f in columns if f == form]
        for key in results[cols[0][0]] if cols else []:
            candidates = [
                (results[c][key][0], c, m)
                for c, m in cols
                if entry(c).kind == "complexity" and np.isfinite(results[c][key][0])
            ]
            if not candidates:
                continue
            _, top, top_name = max(candidates)
            for c, m in cols:
                if c == top:
                    continue
                delta = results[c][key] - results[top][key]
                out.append(difference_row(m, form, f"top: {top_name}", key, delta, confidence, n_seeds))
    return out


def difference_row(
    measure: str, form: str, baseline: str, key: tuple, delta: np.ndarray, confidence: float, n_seeds: int
) -> dict:
    """One row of the paired-differences table: the draws ``delta`` of measure − baseline at
    ``key`` = (scope, criterion), their estimate, interval and verdict."""
    low, high = bootstrap_interval(delta, confidence, n_seeds)
    return dict(
        measure=measure,
        form=form,
        baseline=baseline,
        scope=key[0],
        criterion=key[1],
        difference=delta[0],
        ci_low=low,
        ci_high=high,
        verdict=verdict(low, high),
    )
