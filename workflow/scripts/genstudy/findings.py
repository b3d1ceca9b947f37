"""The study's findings as Markdown, generated from its tables, so that prose never goes stale.

A measure is called the winner of a criterion only when the seed-bootstrap interval of
its difference to every other measure lies above 0; a measure beats a baseline only when
the interval of that difference does. Everything else is reported as unresolved.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd

from .intervals import interval_text, seeds_for_half_width
from .published import comparison_lines
from .runs import RUN_KEYS
from .sign_error import checkpoint_summary

HEADLINE = ("Psi", "tau")  # criteria the findings read: Ψ (per-axis average) and τ over a checkpoint


def git_commit(repository) -> str:
    """The commit of the workflow's checkout (``-dirty`` with uncommitted changes to tracked files),
    for the findings' provenance; ``unknown`` outside a git checkout. Read when the findings are
    written, not a rule parameter, so committing does not rerun the rule."""
    import subprocess

    def git(*args):
        return subprocess.run(["git", *args], cwd=repository, capture_output=True, text=True, check=True).stdout.strip()

    if not repository:
        return "unknown"
    try:
        dirty = git("status", "--porcelain", "--untracked-files=no")
        return git("rev-parse", "--short=12", "HEAD") + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def config_hash(config: dict) -> str:
    return hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()[:12]


def winner_line(intervals: pd.DataFrame, differences: pd.DataFrame, scope: str, criterion: str, form: str) -> str:
    """The top measure of a criterion, called the winner only if every difference to it is resolved."""
    rows = intervals[(intervals.scope == scope) & (intervals.criterion == criterion) & (intervals.form == form)]
    rows = rows[rows.measure.map(lambda m: not m.startswith("baseline_")) & rows.value.notna()]
    if rows.empty:
        return f"- {criterion} ({form}): no measure has a value"
    top = rows.sort_values("value", ascending=False).iloc[0]
    vs = differences[
        (differences.scope == scope)
        & (differences.criterion == criterion)
        & (differences.form == form)
        & (differences.baseline == f"top: {top.measure}")
    ]
    resolved = (vs.verdict == "baseline better").all() and len(vs) > 0
    close = vs[vs.verdict != "baseline better"].sort_values("difference", ascending=False).measure.tolist()
    if not np.isfinite(top["ci_low"]):
        return (
            f"- {criterion} ({form}): unresolved — highest estimate `{top.measure}` {interval_text(top)}; with one "
            "seed there is no interval, so no difference between measures can be resolved"
        )
    if resolved:
        return f"- {criterion} ({form}): **winner `{top.measure}`** {interval_text(top)}, ahead of every other column"
    return (
        f"- {criterion} ({form}): unresolved — highest estimate `{top.measure}` {interval_text(top)}, but "
        f"{len(close)} other column(s) are within its interval of differences (e.g. "
        + ", ".join(f"`{m}`" for m in close[:4])
        + ")"
    )


def baseline_lines(differences: pd.DataFrame, scope: str, criterion: str) -> list[str]:
    """Measures whose difference to every baseline (same form) is resolved above 0."""
    d = differences[
        (differences.scope == scope)
        & (differences.criterion == criterion)
        & differences.baseline.str.startswith("baseline_")
        & ~differences.measure.str.startswith("baseline_")
    ]
    out = []
    for form, g in d.groupby("form", sort=False):
        beat = g.groupby("measure").verdict.apply(lambda v: (v == "measure better").all())
        names = beat[beat].index.tolist()
        out.append(
            f"- {criterion} ({form}): {len(names)} of {len(beat)} measures beat every baseline"
            + (": " + ", ".join(f"`{m}`" for m in names) if names else " (none resolved)")
        )
    return out


PAPER_WEIGHTING = "dziugaite2020"


def sign_error_lines(sign_error: pd.DataFrame, checkpoint: str, min_ess=None, shown: int = 5) -> list[str]:
    """The robust sign error in Dziugaite et al.'s form: how many measures tie at the worst
    case, the lowest worst cases with the effective sample size behind them, and the baselines."""
    s = checkpoint_summary(sign_error, checkpoint, PAPER_WEIGHTING)
    s = s[s["mean"].notna()].sort_values(["worst", "mean"])
    baselines = s[s.measure.str.startswith("baseline_")]
    s = s[~s.measure.str.startswith("baseline_")]
    if s.empty:
        need = f" of at least {min_ess:g}" if min_ess is not None else ""
        return [
            f"- no environment has an effective sample size{need} (s seeds give an environment at most "
            "s² pairs, fewer where error differences are within test-set noise), so no measure has a "
            "robust sign error here"
        ]
    top = s.worst.max()
    tied = int(np.isclose(s.worst, top).sum())
    lines = [
        f"- {tied} of {len(s)} measures ({tied / len(s):.0%}) share the highest worst case, {top:.2f}; "
        "a worst case is one environment, so the ordering below rests on the few listed pairs' weights"
    ]
    lines += [
        f"- `{r.measure}`: worst {r.worst:.2f} (effective sample size {r.worst_ess:.1f}), mean {r['mean']:.2f}, "
        f"10th–90th percentile {r.p10:.2f}–{r.p90:.2f} ({r.resolved} of {r.environments} environments resolved)"
        for _, r in s.head(shown).iterrows()
    ]
    for _, r in baselines.iterrows():
        lines.append(
            f"- baseline `{r.measure}`: worst {r.worst:.2f} (effective sample size {r.worst_ess:.1f}), "
            f"mean {r['mean']:.2f}; measures with a lower worst case: "
            f"{int((s.worst < r.worst - 1e-12).sum())} of {len(s)}"
        )
    return lines


def reached_margins(measures: pd.DataFrame, checkpoint: str) -> pd.Series:
    """γ of every run that reached ``checkpoint`` (the margin is defined there)."""
    return measures.loc[(measures.checkpoint == checkpoint) & measures.reached.astype(bool), "margin"].dropna()


CHECKPOINT_MEANING = {
    "acc1": "training accuracy 1",
    "ce001": "training cross-entropy at most 0.01",
    "loss0": "training loss at most train.target_loss",
}


def ranked_runs(measures: pd.DataFrame, checkpoint: str) -> pd.DataFrame:
    """The runs the rankings use at ``checkpoint``: those that reached it without diverging."""
    rows = measures[measures.checkpoint == checkpoint]
    return rows[rows.reached.astype(bool) & ~rows.diverged.astype(bool)]


def checkpoint_status_line(measures: pd.DataFrame, checkpoint: str, max_epochs) -> str:
    """How many runs the rankings at ``checkpoint`` rest on, and why the others are left out."""
    rows = measures[measures.checkpoint == checkpoint]
    diverged = int(rows.diverged.astype(bool).sum())
    unreached = int((~rows.reached.astype(bool) & ~rows.diverged.astype(bool)).sum())
    used = len(ranked_runs(measures, checkpoint))
    why = []
    if diverged:
        why.append(f"{diverged} diverged")
    if unreached:
        why.append(
            f"{unreached} stopped at train.max_epochs = {max_epochs} before reaching "
            f"{CHECKPOINT_MEANING.get(checkpoint, checkpoint)}"
        )
    head = f"{used} of {len(rows)} runs reached {checkpoint} without diverging"
    return head + (f" ({'; '.join(why)})" if why else "") + "."


def margin_line(measures: pd.DataFrame, checkpoint: str) -> str:
    m = reached_margins(measures, checkpoint)
    if m.empty:
        return f"- margin γ at {checkpoint}: no value"
    return f"- margin γ at {checkpoint}: {m.min():.3g} to {m.max():.3g} over {len(m)} runs (max/min {m.max() / m.min():.2f})"


def run_count(measures: pd.DataFrame) -> int:
    """Runs in the measures table: one per setting of every run key it has (a row per checkpoint)."""
    keys = [k for k in RUN_KEYS if k in measures.columns]
    return measures.groupby(keys, dropna=False).ngroups if len(measures) else 0


def findings_markdown(
    intervals: pd.DataFrame,
    differences: pd.DataFrame,
    sign_error: pd.DataFrame,
    measures: pd.DataFrame,
    study: str,
    config: dict,
    commit: str,
) -> str:
    seeds = int(intervals.n_seeds.max()) if len(intervals) else 0
    draws = int(intervals.draws.max()) if len(intervals) else 0
    ranking = config.get("ranking", {})
    conf = ranking.get("confidence", 0.95)
    checkpoints = list(dict.fromkeys(measures.checkpoint))
    out = [
        f"# Findings of the study `{study}`",
        "",
        f"Generated from `results/{study}/tables/` by the `findings` rule (`make findings`); do not edit. "
        f"Commit `{commit}`, config sha256 `{config_hash(config)}`.",
        "",
        f"{len(measures)} checkpoints of {run_count(measures)} runs; "
        f"{seeds} seeds; intervals: {conf:.0%}, over {draws} seed-bootstrap draws (estimate ± Student t × "
        "bootstrap s.e.). A winner or a win over a baseline is stated only when its interval excludes 0.",
        "",
    ]
    ranked = []  # the checkpoints with at least two runs to rank
    for ckpt in checkpoints:
        scope = f"checkpoint={ckpt}"
        status = checkpoint_status_line(measures, ckpt, config.get("train", {}).get("max_epochs"))
        out += [f"## At {ckpt}", "", status, ""]
        if len(ranked_runs(measures, ckpt)) < 2:
            out += [
                "Fewer than two runs to compare, so no measure can be ranked at this checkpoint: no winner, "
                "no baseline comparison and no sign error.",
                "",
            ]
            continue
        ranked.append(ckpt)
        out += ["Which measure ranks the runs as their test error does:", ""]
        out += [winner_line(intervals, differences, scope, c, f) for c in HEADLINE for f in ("raw", "adjusted")]
        out += ["", "Against the baselines (label noise, 1/m, optimiser updates):", ""]
        out += [line for c in HEADLINE for line in baseline_lines(differences, scope, c)]
        out += [
            "",
            "Robust sign error over environments (Dziugaite et al. 2020, their weighting: squared Hoeffding "
            f"weights less {ranking.get('sign_error_weight_threshold', 0.5):g}, environments of effective "
            f"sample size at least {ranking.get('sign_error_min_ess', 12):g}), raw forms, the 5 measures with "
            "the lowest worst case (then mean); measures constant over the runs are left out:",
            "",
        ]
        out += sign_error_lines(sign_error, ckpt, ranking.get("sign_error_min_ess"))
        out += ["", margin_line(measures, ckpt), ""]
    if ranked:
        out += comparison_lines(intervals, sign_error, ranked, set(measures.label_mode), PAPER_WEIGHTING)
    out += power_lines(intervals, differences, checkpoints, conf)
    spread = {c: margin_spread(measures, c) for c in checkpoints}
    finite = {c: v for c, v in spread.items() if np.isfinite(v)}
    if len(finite) > 1:
        out += [
            "The margin's spread over the runs (max/min) by checkpoint: "
            + ", ".join(f"{c} {v:.2f}" for c, v in finite.items())
            + ". A checkpoint that stops every run at one training loss may narrow it; these numbers do "
            "not test that, and say nothing about which measures carry more information.",
            "",
        ]
    return "\n".join(out)


def half_widths(rows: pd.DataFrame, estimate: str) -> pd.Series:
    """The unclipped half-width of each interval (a bound clips one side at most)."""
    return np.maximum(rows[estimate] - rows.ci_low, rows.ci_high - rows[estimate])


def power_row(label: str, checkpoint: str, rows: pd.DataFrame, estimate: str, n_seeds: int, conf: float, target):
    hw = half_widths(rows, estimate).dropna()
    if hw.empty:
        return None
    needed = np.array([seeds_for_half_width(h, n_seeds, conf, target) for h in hw])
    top = rows.loc[hw.index].nlargest(5, estimate) if estimate == "value" else None
    top_hw = f"{half_widths(top, estimate).max():.2f}" if top is not None else "—"
    return (
        f"| {label} | {checkpoint} | {len(hw)} | {int((hw <= target).sum())} | {np.median(needed):.0f} | "
        f"{np.percentile(needed, 90):.0f} | {top_hw} |"
    )


def power_lines(intervals: pd.DataFrame, differences: pd.DataFrame, checkpoints, conf: float, target=0.10):
    """How many seeds would give every interval a half-width ≤ ``target``, from this study's spread."""
    if not len(intervals) or intervals.n_seeds.max() < 2:
        return []
    n_seeds = int(intervals.n_seeds.max())
    measures = intervals[~intervals.measure.str.startswith("baseline_")]
    vs_baselines = differences[
        differences.baseline.str.startswith("baseline_") & ~differences.measure.str.startswith("baseline_")
    ]
    lines = [
        f"## How many seeds: half-widths ≤ {target:.2f}",
        "",
        f"From this study's spread over its {n_seeds} seeds (per-seed s.d. = bootstrap s.e. × √seeds, "
        f"held fixed), the seeds at which an interval's half-width, t(S − 1) × s.d. / √S at {conf:.0%}, "
        f"falls to {target:.2f}: over every measure (raw and adjusted forms), and for the 5 measures with "
        "the highest estimate their largest half-width now.",
        "",
        f"| criterion | checkpoint | intervals | half-width ≤ {target:.2f} now | seeds needed: median | "
        "seeds needed: 90th percentile | top 5: largest half-width now |",
        "|---|---|---|---|---|---|---|",
    ]
    for ckpt in checkpoints:
        scope = f"checkpoint={ckpt}"
        for criterion in ("tau", "Psi"):
            rows = measures[(measures.scope == scope) & (measures.criterion == criterion)]
            lines.append(power_row(criterion, ckpt, rows, "value", n_seeds, conf, target))
            rows = vs_baselines[(vs_baselines.scope == scope) & (vs_baselines.criterion == criterion)]
            lines.append(power_row(f"{criterion}: measure − baseline", ckpt, rows, "difference", n_seeds, conf, target))
    return [line for line in lines if line is not None] + [""]


def margin_spread(measures: pd.DataFrame, checkpoint: str) -> float:
    m = reached_margins(measures, checkpoint)
    return float(m.max() / m.min()) if len(m) and m.min() > 0 else np.nan
