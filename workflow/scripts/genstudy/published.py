"""The published verdicts this study is set against, declared once, and how a verdict is read
from the study's tables.

A sign claim ("measure X correlates positively with generalization") is read from the
seed-bootstrap interval of Kendall's τ between the measure and the test error over the runs
trained on correct labels (the papers train on correct labels only), and of Ψ where the study
has no other label mode: **agree** when the interval excludes 0 on the published side,
**disagree** when it excludes 0 on the other side, **unresolved** when it holds 0.

The robustness claim of Dziugaite et al. is read from the robust sign error in their
weighting: it agrees when no measure's worst environment is better than chance (1/2).

Where the claims come from: Dziugaite et al.'s figure numbers are those of their repository's
``experiments/coupled_networks/makefile`` (target ``paper``), which builds each figure of the
paper. Jiang et al.'s tables could not be read where this was written, so their rows cite the
paper's text (results and conclusion), not a table number.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .intervals import interval_text
from .sign_error import checkpoint_summary

JIANG = "Jiang et al. 2019 (arXiv 1912.02178)"
DZIUGAITE = "Dziugaite et al. 2020 (arXiv 2010.11924)"


@dataclass(frozen=True)
class SignClaim:
    """A published sign of the rank correlation between a family's measures and generalization."""

    paper: str
    where: str
    claim: str
    measures: tuple[str, ...]
    sign: int  # +1: a larger value goes with a larger test error; -1: with a smaller one


@dataclass(frozen=True)
class RobustnessClaim:
    """No measure predicts the sign of a generalization difference in every environment."""

    paper: str
    where: str
    claim: str
    chance: float = 0.5


SIGN_CLAIMS = (
    SignClaim(
        JIANG,
        "results and conclusion: the sharpness and PAC-Bayes flatness measures, magnitude-aware above all, "
        "are the most promising",
        "sharpness and PAC-Bayes flatness correlate positively with generalization error",
        ("sharpness", "sharpness_mag", "pacbayes_flatness", "pacbayes_mag_flatness"),
        +1,
    ),
    SignClaim(
        JIANG,
        "results: spectral-norm measures are among the surprising failures",
        "products and sums of spectral norms correlate negatively with generalization error",
        ("prod_of_spec", "sum_of_spec"),
        -1,
    ),
    SignClaim(
        JIANG,
        "results: larger networks generalize better in their grid",
        "the number of parameters correlates negatively with generalization error",
        ("n_params",),
        -1,
    ),
)

ROBUSTNESS_CLAIMS = (
    RobustnessClaim(
        DZIUGAITE,
        "Fig. 1 (the CDF of environment sign errors per measure, minimum effective sample size 12) and "
        "Fig. 2 (`pacbayes.mag.flatness` over depth)",
        "no measure is robust: every measure has environments where it predicts the sign of a "
        "generalization difference worse than chance",
    ),
)


VERDICTS = ("agree", "disagree", "unresolved", "no interval", "no value")


def sign_verdict(row, sign: int) -> str:
    """agree / disagree / unresolved for a published sign, from an interval row (value, ci_low, ci_high)."""
    if row is None or not np.isfinite(row["value"]):
        return "no value"
    low, high = sign * row["ci_low"], sign * row["ci_high"]
    low, high = min(low, high), max(low, high)
    if not np.isfinite(low):
        return "no interval"
    if low > 0:
        return "agree"
    if high < 0:
        return "disagree"
    return "unresolved"


def correct_label_scope(intervals: pd.DataFrame, checkpoint: str) -> str | None:
    scope = f"label_mode=correct,checkpoint={checkpoint}"
    return scope if (intervals.scope == scope).any() else None


def interval_row(intervals: pd.DataFrame, measure: str, scope: str, criterion: str):
    rows = intervals[
        (intervals.measure == measure)
        & (intervals.scope == scope)
        & (intervals.criterion == criterion)
        & (intervals.form == "raw")
    ]
    return rows.iloc[0] if len(rows) else None


def verdict_cell(row, verdict: str) -> str:
    if verdict == "no value":
        return "no value (constant over these runs, or none ranked)"
    return interval_text(row) if verdict == "no interval" else f"{verdict} {interval_text(row)}"


def sign_claim_lines(
    claim: SignClaim, intervals: pd.DataFrame, checkpoints, only_correct_labels: bool, tally=None
) -> list[str]:
    """The claim, then one Markdown row per (measure, criterion) with this study's verdict at each
    checkpoint. τ is over the correct-label runs; Ψ only where every run has correct labels.
    ``tally``, a dict, counts the verdicts per (checkpoint, verdict)."""
    criteria = [("tau", "tau (correct-label runs)")] + ([("Psi", "Psi")] if only_correct_labels else [])
    sign = "positively" if claim.sign > 0 else "negatively"
    lines = [
        f"**{claim.paper}**: {claim.claim} ({claim.where}). Published sign of τ with the error: "
        f"{'+' if claim.sign > 0 else '−'} ({sign}).",
        "",
        "| measure | criterion | " + " | ".join(checkpoints) + " |",
        "|---|---|" + "---|" * len(checkpoints),
    ]
    for measure in claim.measures:
        for criterion, label in criteria:
            cells = []
            for ckpt in checkpoints:
                scope = correct_label_scope(intervals, ckpt) if criterion == "tau" else f"checkpoint={ckpt}"
                row = interval_row(intervals, measure, scope, criterion) if scope else None
                verdict = sign_verdict(row, claim.sign)
                cells.append(verdict_cell(row, verdict))
                if tally is not None:
                    tally[ckpt, verdict] = tally.get((ckpt, verdict), 0) + 1
            lines.append(f"| `{measure}` | {label} | " + " | ".join(cells) + " |")
    return lines + [""]


def robustness_verdict(sign_error: pd.DataFrame, checkpoint: str, weighting: str, chance: float) -> str:
    """agree when every measure's worst resolved environment is at or above chance; otherwise the
    measures below it, each with its worst case and the effective sample size behind it."""
    s = checkpoint_summary(sign_error, checkpoint, weighting)
    s = s[s.worst.notna() & ~s.measure.str.startswith("baseline_")]
    if s.empty:
        return "no environment resolved"
    better = s[s.worst < chance].sort_values("worst")
    if better.empty:
        return f"agree: all {len(s)} measures have a worst case ≥ {chance:g} (lowest {s.worst.min():.2f})"
    named = ", ".join(f"`{r.measure}` {r.worst:.2f} (ESS {r.worst_ess:.1f})" for _, r in better.head(3).iterrows())
    more = f" and {len(better) - 3} more" if len(better) > 3 else ""
    verb = "has" if len(better) == 1 else "have"
    return f"disagree: {len(better)} of {len(s)} measures {verb} a worst case below {chance:g}: {named}{more}"


def comparison_lines(
    intervals: pd.DataFrame,
    sign_error: pd.DataFrame,
    checkpoints,
    label_modes,
    weighting: str,
    sign_claims=SIGN_CLAIMS,
    robustness_claims=ROBUSTNESS_CLAIMS,
) -> list[str]:
    """The findings' section "Compared with Jiang et al. 2019 and Dziugaite et al. 2020"."""
    only_correct = set(label_modes) == {"correct"}
    lines = [
        "## Compared with Jiang et al. 2019 and Dziugaite et al. 2020",
        "",
        "Each published verdict beside this study's, per checkpoint: agree or disagree only where the "
        "interval excludes 0 (raw forms; τ over the runs with correct labels, as the papers train; "
        + (
            "Ψ over this study's axes"
            if only_correct
            else "Ψ is not compared, since this study's Ψ averages over the label mode, which the papers do not vary"
        )
        + "). Jiang et al.'s rows cite their text, not a table number (no copy of their tables was "
        "reachable here); Dziugaite et al.'s figure numbers are those their repository builds.",
        "",
    ]
    tally = {}
    for claim in sign_claims:
        lines += sign_claim_lines(claim, intervals, checkpoints, only_correct, tally)
    if sign_claims:
        lines += [
            f"- Published signs of Jiang et al. at {ckpt} (rows above): "
            + ", ".join(f"{tally.get((ckpt, v), 0)} {v}" for v in VERDICTS)
            for ckpt in checkpoints
        ] + [""]
    for claim in robustness_claims:
        lines += [
            f"**{claim.paper}**: {claim.claim} ({claim.where}). Here, in their weighting, over environments of "
            "runs that differ in one axis:",
            "",
        ]
        lines += [f"- {ckpt}: {robustness_verdict(sign_error, ckpt, weighting, claim.chance)}" for ckpt in checkpoints]
    return lines + [""]
