"""The published verdicts set against the study: each verdict read from an interval or a worst case,
over the runs the papers' setting matches, and every claim naming measures the study computes."""

import numpy as np
import pandas as pd
from test_intervals import study

from genstudy.intervals import ranking_intervals
from genstudy.published import (
    ROBUSTNESS_CLAIMS,
    SIGN_CLAIMS,
    RobustnessClaim,
    SignClaim,
    comparison_lines,
    robustness_verdict,
    sign_verdict,
)
from genstudy.registry import entry


def row(value, low, high):
    return pd.Series({"value": value, "ci_low": low, "ci_high": high})


def test_a_published_sign_is_agreed_or_contradicted_only_by_an_interval_that_excludes_zero():
    assert sign_verdict(row(0.3, 0.1, 0.5), +1) == "agree"
    assert sign_verdict(row(0.3, 0.1, 0.5), -1) == "disagree"
    assert sign_verdict(row(-0.3, -0.5, -0.1), -1) == "agree"
    assert sign_verdict(row(0.3, -0.01, 0.6), +1) == "unresolved"
    assert sign_verdict(row(0.3, -0.01, 0.6), -1) == "unresolved"
    assert sign_verdict(row(np.nan, np.nan, np.nan), +1) == "no value"
    assert sign_verdict(None, +1) == "no value"
    assert sign_verdict(row(0.3, np.nan, np.nan), +1) == "no interval"


def test_every_published_claim_names_a_ranked_measure_of_the_registry():
    named = [m for c in SIGN_CLAIMS for m in c.measures]
    assert named and all(entry(m).kind == "complexity" for m in named)
    assert all(c.sign in (-1, 1) and c.where and c.paper for c in SIGN_CLAIMS)
    assert ROBUSTNESS_CLAIMS and all(0 < c.chance < 1 for c in ROBUSTNESS_CLAIMS)


def comparison_study():
    """dist_init falls with the error inside each label mode but is higher for random labels, so
    its τ is positive over all runs and -1 over the correct-label runs alone."""
    t = study(np.random.default_rng(4), seeds=tuple(range(6)), noise=0.0)
    err = 1.0 - t["test_acc"]
    t["dist_init"] = np.where(t.label_mode == "random", 10.0, 0.0) - err
    t["margin"] = 1.0
    intervals, _ = ranking_intervals(t, ["size", "label_mode"], draws=200, confidence=0.95, seed=1)
    return t, intervals


def cells(lines, measure):
    rows = [line for line in lines if line.startswith(f"| `{measure}` |")]
    return [[c.strip() for c in r.strip("|").split("|")] for r in rows]


def test_a_published_sign_is_read_over_the_correct_label_runs_as_the_papers_train():
    t, intervals = comparison_study()
    pooled = intervals[
        (intervals.measure == "dist_init") & (intervals.scope == "checkpoint=loss0") & (intervals.criterion == "tau")
    ]
    assert (pooled[pooled.form == "raw"].ci_low > 0).all()  # the pooled τ would agree with a + sign
    claim = SignClaim("P", "Table 0", "grows with the error", ("dist_init",), +1)
    lines = comparison_lines(
        intervals,
        pd.DataFrame(columns=["checkpoint"]),
        ["loss0"],
        {"correct", "random"},
        "dziugaite2020",
        sign_claims=(claim,),
        robustness_claims=(),
    )
    (only,) = cells(lines, "dist_init")  # no Ψ row: this study's Ψ averages over the label mode
    assert only[1] == "tau (correct-label runs)" and only[2].startswith("disagree -1.00")
    tally = "- Published signs of Jiang et al. at loss0 (rows above): 0 agree, 1 disagree, 0 unresolved, 0 no interval"
    assert any(line.startswith(tally) for line in lines)
    correct_only = t[t.label_mode == "correct"].copy()
    i2, _ = ranking_intervals(correct_only, ["size"], draws=200, confidence=0.95, seed=1)
    lines = comparison_lines(
        i2,
        pd.DataFrame(columns=["checkpoint"]),
        ["loss0"],
        {"correct"},
        "dziugaite2020",
        sign_claims=(claim,),
        robustness_claims=(),
    )
    assert [c[1] for c in cells(lines, "dist_init")] == ["tau (correct-label runs)", "Psi"]
    assert all(c[2].startswith("disagree -1.00") for c in cells(lines, "dist_init"))


def test_robustness_is_contradicted_by_a_measure_whose_worst_environment_beats_chance():
    frame = pd.DataFrame(
        {
            "weighting": "dziugaite2020",
            "measure": ["a", "b", "baseline_label_noise", "c"],
            "form": "raw",
            "checkpoint": "acc1",
            "axis": "all",
            "worst": [0.9, 1.0, 0.0, np.nan],
            "worst_ess": [20.0, 30.0, 40.0, np.nan],
        }
    )
    assert robustness_verdict(frame, "acc1", "dziugaite2020", 0.5).startswith("agree: all 2 measures")
    frame.loc[1, "worst"] = 0.25
    verdict = robustness_verdict(frame, "acc1", "dziugaite2020", 0.5)
    assert verdict == "disagree: 1 of 2 measures has a worst case below 0.5: `b` 0.25 (ESS 30.0)"
    assert robustness_verdict(frame, "ce001", "dziugaite2020", 0.5) == "no environment resolved"
    lines = comparison_lines(
        pd.DataFrame(columns=["measure", "scope", "criterion", "form"]),
        frame,
        ["acc1"],
        {"correct"},
        "dziugaite2020",
        sign_claims=(),
        robustness_claims=(RobustnessClaim("P", "Fig. 9", "none robust"),),
    )
    assert f"- acc1: {verdict}" in lines
