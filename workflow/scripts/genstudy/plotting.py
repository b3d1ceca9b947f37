"""Figures of the study, drawn the same way everywhere.

Every quantity has one label and one scale (``QUANTITIES`` and the measure registry),
whatever figure it appears in. Points are means over seeds and over the axes a
figure does not show, with a min–max band when there is more than one run behind a
point; hollow points: some run did not reach the checkpoint (they show the weights
at max_epochs). Every figure says what acc1 and loss0 mean.
"""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .arrays import atomic_output
from .contract import CE_CHECKPOINT_LOSS
from .labels import label_noise
from .registry import FAMILIES, MEASURES, entry

plt.rcParams.update({"font.size": 10, "axes.titlesize": 10, "axes.labelsize": 10, "legend.fontsize": 9})

# column: (axis label, scale); accuracies and errors are bounded, so never on a log axis
QUANTITIES = {
    "test_error": ("test error (1 − test accuracy)", "linear"),
    "train_loss": ("training loss (exact, whole subset)", "log"),
    "test_loss": ("test loss", "log"),
    "l2_seed": (r"L2 = $4\prod_i\|W_i\|_F^2$ (the original's)", "log"),
    "epoch": ("epochs to the checkpoint", "log"),
    "updates": ("optimiser updates to the checkpoint", "log"),
}
TRAINING_PANELS = ("test_error", "test_loss", "train_loss", "l2_seed", "epoch", "updates")
AXIS_LABELS = {
    "size": "training-set size n",
    "label_mode": "label noise (fraction of labels drawn at random)",
    "width": "hidden width",
    "depth": "depth (Dense layers)",
    "learning_rate": "learning rate",
    "batch_size": "batch size",
    "protocol": "protocol",
    "hidden": "hidden layers",
}
COLORS = {
    "correct": "tab:blue",
    "random": "tab:red",
    "wrong": "tab:purple",
    "acc1": "tab:green",
    "ce001": "tab:purple",
    "loss0": "tab:orange",
    "independent": "tab:blue",
    "carry_optimizer": "tab:red",
}
CHECKPOINT_NOTE = (
    "acc1: first epoch with training accuracy 1.  ce001: first epoch with training loss ≤ "
    f"{CE_CHECKPOINT_LOSS:g}.  "
    "loss0: first epoch with training loss ≤ {target:g} (training stops there)."
)


def plain_number(v, _=None) -> str:
    """1, 20, 0.005, 3e6: short tick labels without mathtext exponents."""
    if v == 0 or 1e-3 <= abs(v) < 1e4:
        return f"{v:g}"
    mantissa, exponent = f"{v:.2e}".split("e")  # 2.5e5, not 2e5 beside a 2e5: ticks never share a label
    return f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"


PLAIN = matplotlib.ticker.FuncFormatter(plain_number)


def color(key, i: int) -> str:
    return COLORS.get(str(key), f"C{(i + 2) % 10}")


def with_test_error(table: pd.DataFrame) -> pd.DataFrame:
    return table.assign(test_error=1.0 - table["test_acc"])


def label_and_scale(column: str) -> tuple[str, str]:
    if column in QUANTITIES:
        return QUANTITIES[column]
    e = entry(column)
    return (
        e.label + ("  (adjusted)" if column.endswith("_adj") else ""),
        "log" if e.kind != "diagnostic" and e.adjust != "" and not column.endswith("_adj") else "linear",
    )


def diverged(df: pd.DataFrame) -> pd.Series:
    """The rows of diverged runs (a table without the column has none)."""
    return df["diverged"].astype(bool) if "diverged" in df else pd.Series(False, index=df.index)


def summarise(df: pd.DataFrame, x: str, column: str) -> pd.DataFrame:
    """Per value of ``x``: mean, min and max of ``column`` over the rows of runs that did not
    diverge (their numbers mean nothing), how many, and whether every one reached its checkpoint."""
    g = df[~diverged(df)].dropna(subset=[column]).groupby(x, sort=True)
    out = g[column].agg(["mean", "min", "max", "count"])
    out["all_reached"] = g["reached"].all()
    return out.reset_index()


DIVERGED_LABEL = "a diverged run (left out of lines and bands)"


def draw_series(ax, df: pd.DataFrame, x: str, column: str, key, i: int, label: str | None = None) -> bool:
    c = color(key, i)
    gone = df[diverged(df)].dropna(subset=[column])
    if len(gone):  # each shown on its own, marked, and named once in the legend
        named = DIVERGED_LABEL in ax.get_legend_handles_labels()[1]
        ax.plot(gone[x], gone[column], "x", color=c, ms=6, mew=1.5, label=None if named else DIVERGED_LABEL)
    s = summarise(df, x, column)
    if s.empty:
        return bool(len(gone))
    ax.plot(s[x], s["mean"], "-", color=c, label=label or str(key), lw=1.6)
    if (s["count"] > 1).any():
        ax.fill_between(s[x], s["min"], s["max"], color=c, alpha=0.18, linewidth=0)
    ax.plot(s[x][s.all_reached], s["mean"][s.all_reached], "o", color=c, ms=4)
    ax.plot(s[x][~s.all_reached], s["mean"][~s.all_reached], "o", mfc="white", mec=c, ms=5.5, mew=1.4)
    return True


def log_ticks(low: float, high: float, most: int = 6):
    """At least two labelled ticks within [low, high] on a log axis: 1 of each decade over a wide
    range, 1, 2, 5 over a short one, every digit over a shorter one, and else the ends themselves
    (a range inside one decade between two of those, as an L2 product can be). Fixed at the values
    found here: a LogLocator asked again at draw time, over the view's limits, can drop them all
    (a training loss that every run stops just under the target spans less than 1 %)."""
    for subs in ((1.0,), (1.0, 2.0, 5.0), tuple(float(k) for k in range(1, 10))):
        if subs == (1.0,) and high / low <= 1e3:
            continue
        ticks = [t for t in matplotlib.ticker.LogLocator(base=10, subs=subs).tick_values(low, high) if low <= t <= high]
        if len(ticks) >= 2:
            return matplotlib.ticker.FixedLocator(ticks[:: math.ceil(len(ticks) / most)])
    return matplotlib.ticker.FixedLocator(sorted({float(f"{low:.3g}"), float(f"{high:.3g}")}))


def style_axis(ax, column: str, xlabel: str, log_x: bool = False, chance: float | None = None) -> None:
    label, scale = label_and_scale(column)
    if scale == "log" and ax.has_data():
        # the data limits of lines, markers and bands alike: ticks must reach a band's ends too
        low, high = ax.dataLim.y0, ax.dataLim.y1
        ax.set_yscale("log" if low > 0 else "symlog")
        if low > 0:
            ax.yaxis.set_major_locator(log_ticks(low, high))
        ax.yaxis.set_major_formatter(PLAIN)
        ax.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    if column == "test_error":
        ax.set_ylim(0, 1)
        if chance is not None:
            ax.axhline(chance, color="k", ls=":", lw=1)
            ax.annotate(
                "chance", (0.01, chance), xycoords=("axes fraction", "data"), ha="left", va="bottom", fontsize=8
            )
    if log_x:
        ax.set_xscale("log", base=2)
        ax.xaxis.set_major_formatter(PLAIN)
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_ylabel(label)
    ax.set_xlabel(xlabel)
    ax.grid(alpha=0.3)


def grid(n_panels: int, ncols: int, width: float = 4.4, height: float = 3.2):
    nrows = max(1, math.ceil(n_panels / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows), squeeze=False)
    for ax in list(axes.flat)[n_panels:]:
        ax.axis("off")
    return fig, list(axes.flat)


def finish(fig, path, title: str, notes: list[str], handles_from=None, legend_columns: int = 4) -> None:
    """Title at the top left, the legend under it, notes at the bottom: the figure grows by
    the inches they take, so the panels keep their size and nothing overlaps."""
    width, panels_height = fig.get_size_inches()
    handles, labels = handles_from.get_legend_handles_labels() if handles_from is not None else ([], [])
    ncols = max(1, min(len(labels), legend_columns))
    top_in = 0.45 + (0.26 * math.ceil(len(labels) / ncols) + 0.05 if handles else 0.0)
    bottom_in = 0.15 + 0.17 * sum(note.count("\n") + 1 for note in notes)
    height = panels_height + top_in + bottom_in
    fig.set_size_inches(width, height)
    if handles:
        fig.legend(
            handles, labels, loc="upper center", ncols=ncols, frameon=False, bbox_to_anchor=(0.5, 1 - 0.42 / height)
        )
    fig.suptitle(title, fontsize=11, x=0.01, y=1 - 0.08 / height, ha="left", va="top")
    fig.text(0.01, 0.06 / height, "\n".join(notes), fontsize=8.5, va="bottom", ha="left", color="0.25")
    fig.tight_layout(rect=(0, bottom_in / height, 1, 1 - top_in / height))
    with atomic_output(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)


def aggregation_note(table: pd.DataFrame, point: list[str], axes: list[str], shown: list[str] | None = None) -> str:
    """What a point is the mean of: the runs sharing the ``point`` columns (seeds, and the
    study's axes the figure does not show: not in ``shown``, which defaults to ``point``)."""
    hidden = [a for a in axes if a not in (shown or point)]
    over = "seeds" + (f" and {', '.join(hidden)}" if hidden else "")
    band = ", band = min–max" if table.groupby(point).size().max() > 1 else ""
    gone = " ×: a diverged run, shown alone and left out of lines and bands." if diverged(table).any() else ""
    return f"Lines: mean over {over}{band}. Hollow: not reached by max_epochs (final weights shown).{gone}"


def plot_training(
    table: pd.DataFrame, series: str, order, title: str, path, axes: list[str], target: float, n_classes: int
) -> None:
    """The training quantities against n, one line per value of ``series``."""
    table = with_test_error(table)
    fig, panels = grid(len(TRAINING_PANELS), 3)
    for ax, column in zip(panels, TRAINING_PANELS):
        for i, key in enumerate(order):
            draw_series(ax, table[table[series] == key], "size", column, key, i)
        style_axis(ax, column, AXIS_LABELS["size"], chance=1 - 1 / n_classes)
        if column == "train_loss":
            ax.axhline(target, color="k", ls="--", lw=0.8)
    notes = [aggregation_note(table, ["size", series], axes), CHECKPOINT_NOTE.format(target=target)]
    finish(fig, path, title, notes, handles_from=panels[0])


def family_columns(table: pd.DataFrame, family: str) -> list[str]:
    """The ranked raw measures of a family that vary over the table's runs, in registry order (a
    constant one, like the parameter count of a single architecture, would draw flat lines)."""
    names = [c.name for c in MEASURES if c.family == family and c.ranked]
    return [n for n in names if n in table.columns and table[n].nunique(dropna=True) > 1]


def plot_family(table: pd.DataFrame, family: str, order, path, axes: list[str], target: float) -> None:
    """One family of measures against n: a row per measure, a column per checkpoint."""
    columns = family_columns(table, family)
    checkpoints = list(dict.fromkeys(table["checkpoint"]))
    nrows = max(1, len(columns))
    fig, axs = plt.subplots(nrows, len(checkpoints), figsize=(4.6 * len(checkpoints), 3.1 * nrows + 0.8), squeeze=False)
    for r, column in enumerate(columns):
        for ax, ckpt in zip(axs[r], checkpoints):
            sub = table[table["checkpoint"] == ckpt]
            for i, key in enumerate(order):
                draw_series(ax, sub[sub["label_mode"] == key], "size", column, key, i)
            style_axis(ax, column, AXIS_LABELS["size"])
            ax.set_title(f"at {ckpt}")
    if not columns:
        axs[0][0].text(0.5, 0.5, f"no {family} measure has a value", ha="center", transform=axs[0][0].transAxes)
    notes = [aggregation_note(table, ["checkpoint", "size", "label_mode"], axes), CHECKPOINT_NOTE.format(target=target)]
    finish(fig, path, f"{family} measures against the training-set size", notes, handles_from=axs[0][0])


def plot_against_axis(
    table: pd.DataFrame,
    axis: str,
    family: str,
    path,
    axes: list[str],
    target: float,
    n_classes: int,
    checkpoint: str = "loss0",
) -> None:
    """The test error and one family's ranked measures (the optimisation family with the epochs)
    against one axis at one checkpoint, one line per label mode (or per size, when the axis is the
    label mode); a figure per family keeps each panel readable."""
    # copy(): one consolidated block, where a column per block would make every assign warn
    table = with_test_error(table[table["checkpoint"] == checkpoint].copy())
    x, series = axis, "label_mode"
    if axis == "label_mode":
        table = table.assign(label_noise=table["label_mode"].map(label_noise))
        x, series = "label_noise", "size"
    columns = ["test_error"] + (["epoch"] if family == "optimisation" else []) + family_columns(table, family)
    fig, panels = grid(len(columns), 4, width=3.9, height=3.0)
    order = list(dict.fromkeys(table[series]))
    numeric = pd.api.types.is_numeric_dtype(table[x])
    for ax, column in zip(panels, columns):
        for i, key in enumerate(order):
            draw_series(
                ax, table[table[series] == key], x, column, key, i, label=f"n = {key}" if series == "size" else str(key)
            )
        log_x = numeric and axis in ("width", "learning_rate", "batch_size") and table[x].min() > 0
        style_axis(ax, column, AXIS_LABELS.get(axis, axis), log_x=log_x, chance=1 - 1 / n_classes)
        if numeric:  # ticks at the study's values, not at a scale's round numbers between them
            values = sorted(table[x].dropna().unique())
            ax.xaxis.set_major_locator(matplotlib.ticker.FixedLocator(values))
            ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
            ax.xaxis.set_major_formatter(PLAIN)
            if len(values) > 4:
                ax.tick_params(axis="x", labelrotation=45)
    notes = [aggregation_note(table, [x, series], axes, shown=[axis, series]), CHECKPOINT_NOTE.format(target=target)]
    finish(
        fig,
        path,
        f"At {checkpoint}: test error and the {family} measures against {AXIS_LABELS.get(axis, axis)}",
        notes,
        handles_from=panels[0],
    )


def broadened_density(nodes: np.ndarray, weights: np.ndarray, grid_: np.ndarray, width: float) -> np.ndarray:
    """Σ_k w_k N(λ; node_k, width²) averaged over Lanczos runs (rows); PyHessian's smoothing."""
    ok = weights > 0
    runs = max(1, nodes.shape[0])
    z = (grid_[:, None] - nodes[ok][None, :]) / width
    return (np.exp(-0.5 * z**2) * weights[ok][None, :]).sum(axis=1) / (runs * width * np.sqrt(2 * np.pi))


def plot_spectral_density(densities: dict, title: str, path) -> None:
    """SLQ densities of every label mode on one λ axis, with one smoothing width, so they compare."""
    pooled = {
        mode: (np.concatenate([r["nodes"] for r in runs]), np.concatenate([r["weights"] for r in runs]))
        for mode, runs in densities.items()
    }
    used = np.concatenate([n[w > 0] for n, w in pooled.values()])
    lo, hi = used.min(), used.max()
    span = max(hi - lo, 1e-12)
    grid_ = np.linspace(lo - 0.03 * span, hi + 0.03 * span, 3000)
    width = 0.01 * span
    fig, ax = plt.subplots(figsize=(9, 4.2))
    peak = 0.0
    for i, (mode, (nodes, weights)) in enumerate(pooled.items()):
        dens = broadened_density(nodes, weights, grid_, width)
        peak = max(peak, dens.max())
        ax.semilogy(
            grid_,
            np.maximum(dens, 1e-300),
            color=color(mode, i),
            label=f"{mode} labels (largest Ritz value {nodes[weights > 0].max():.3g})",
        )
    ax.set_ylim(peak * 1e-7, peak * 5)  # seven decades below the peak: the outliers' mass shows
    ax.set_xlabel("eigenvalue λ of the Hessian of the training loss")
    ax.set_ylabel("spectral density")
    ax.grid(alpha=0.3)
    ax.legend(frameon=False)
    note = (
        f"Stochastic Lanczos quadrature, all seeds and Lanczos runs pooled; Gaussian smoothing of width "
        f"{width:.2g} (1% of the λ range) for every curve."
    )
    finish(fig, path, title, [note])


def plot_ranking(tau: pd.DataFrame, psi: pd.DataFrame, intervals: pd.DataFrame, path) -> None:
    """Heatmap: ranked measures (by family, raw and adjusted, baselines last) × criteria; a star
    marks a value whose seed-bootstrap interval (``ranking_intervals.csv``) excludes 0."""
    rows = ranking_rows(tau)
    cols, values, stars = ranking_matrix(tau, psi, rows, intervals)
    fig_h = 1.6 + 0.26 * len(rows)
    fig, ax = plt.subplots(figsize=(2.2 + 0.62 * len(cols), fig_h))
    im = ax.imshow(values, cmap="RdBu_r", vmin=-1, vmax=1, aspect="auto")
    for (r, c), v in np.ndenumerate(values):
        if np.isfinite(v):
            ax.text(
                c,
                r,
                f"{v:.2f}{stars[r, c]}",
                ha="center",
                va="center",
                fontsize=7,
                color="white" if abs(v) > 0.6 else "black",
            )
    ax.set_xticks(range(len(cols)), [c[1] for c in cols], rotation=55, ha="right", fontsize=8)
    ax.set_yticks(
        range(len(rows)), [f"{entry(m).label}{'  (adj.)' if f == 'adjusted' else ''}" for m, f in rows], fontsize=8
    )
    families = [entry(m).family for m, _ in rows]
    for r in range(1, len(rows)):
        if families[r] != families[r - 1]:
            ax.axhline(r - 0.5, color="k", lw=1.2)
    for c in range(1, len(cols)):
        if cols[c][0] != cols[c - 1][0]:
            ax.axvline(c - 0.5, color="k", lw=1.2)
    fig.colorbar(im, ax=ax, fraction=0.025, pad=0.01, label="τ, ψ, Ψ (−1 … 1); CMI (0 … 1)")
    n_seeds = int(intervals.n_seeds.max()) if len(intervals) else 0
    draws = int(intervals.draws.max()) if len(intervals) else 0
    stars = (
        f"*: its seed-bootstrap interval ({draws} draws over {n_seeds} seeds) excludes 0; CMI (PGDL) has no interval."
        if n_seeds >= 2
        else "No *: one seed gives no interval, so no value is marked as resolved."
    )
    notes = [
        "τ: Kendall's τ-b with the test error (+1: the measure orders runs as their test error).",
        "ψ: τ within slices where only that axis varies, averaged; Ψ: mean ψ; CMI: Jiang et al.'s "
        "conditional mutual information; CMI (PGDL): the competition's form (higher = more predictive).",
        stars,
    ]
    finish(
        fig, path, "Which measure tracks generalization (Jiang et al. 2019 criteria; baselines at the bottom)", notes
    )


def ranking_rows(tau: pd.DataFrame) -> list[tuple[str, str]]:
    order = {name: i for i, name in enumerate(c.name for c in MEASURES)}
    rows = list(dict.fromkeys(zip(tau["measure"], tau["form"])))
    return sorted(rows, key=lambda mf: (FAMILIES.index(entry(mf[0]).family), order.get(mf[0], 0), mf[1] != "raw"))


CRITERION_LABELS = {"Psi": "Ψ", "CMI": "CMI", "CMI_pgdl": "CMI (PGDL)"}  # else ψ of an axis


def ranking_matrix(tau: pd.DataFrame, psi: pd.DataFrame, rows, intervals: pd.DataFrame | None = None):
    """Columns (group, label), values and marks: τ per scope, then ψ per axis, Ψ, CMI and the PGDL
    CMI per checkpoint; a cell is marked "*" where its interval in ``intervals`` excludes 0."""
    cols = [
        (s.split(",")[-1], s.replace("checkpoint=", "").replace("label_mode=", "").replace(",", " @ "))
        for s in dict.fromkeys(tau["scope"])
    ]
    keys = [("tau", s) for s in dict.fromkeys(tau["scope"])]
    for ckpt in dict.fromkeys(psi["checkpoint"]):
        for axis in dict.fromkeys(psi["axis"]):
            cols.append((f"criteria@{ckpt}", f"{CRITERION_LABELS.get(axis, 'ψ ' + axis)} @ {ckpt}"))
            keys.append(("psi", (ckpt, axis)))
    t = tau.set_index(["measure", "form", "scope"])
    p = psi.set_index(["measure", "form", "checkpoint", "axis"])
    resolved = set()
    if intervals is not None and len(intervals):
        excludes = (intervals.ci_low > 0) | (intervals.ci_high < 0)
        resolved = set(zip(*(intervals.loc[excludes, k] for k in ("measure", "form", "scope", "criterion"))))
    values = np.full((len(rows), len(cols)), np.nan)
    stars = np.full(values.shape, "", dtype=object)
    for r, (m, f) in enumerate(rows):
        for c, (kind, key) in enumerate(keys):
            if kind == "tau" and (m, f, key) in t.index:
                values[r, c] = t.loc[(m, f, key), "tau"]
                stars[r, c] = "*" if (m, f, key, "tau") in resolved else ""
            elif kind == "psi" and (m, f, *key) in p.index:
                values[r, c] = p.loc[(m, f, *key), "value"]
                criterion = key[1] if key[1] in ("Psi", "CMI", "CMI_pgdl") else f"psi_{key[1]}"
                stars[r, c] = "*" if (m, f, f"checkpoint={key[0]}", criterion) in resolved else ""
    return cols, values, stars


def plot_original_comparison(table: pd.DataFrame, published: pd.DataFrame, path, target: float, dataset: str) -> None:
    """The original's published arrays beside its protocol re-run here and the independent one,
    for every label mode that both have."""
    quantities = [
        ("acc1", "epoch", "epochs to acc1"),
        ("loss0", "epoch", "epochs to loss0"),
        ("loss0", "l2_seed", r"L2 = $4\prod_i\|W_i\|_F^2$ at loss0"),
    ]
    fig, panels = grid(len(quantities), 3, width=4.6, height=3.6)
    for ax, (ckpt, column, label) in zip(panels, quantities):
        modes = [m for m in dict.fromkeys(published["label_mode"]) if m in set(table["label_mode"])]
        for i, mode in enumerate(modes):
            c = color(mode, i)
            pub = published[(published.label_mode == mode) & (published.quantity == f"{ckpt}_{column}")]
            ax.plot(
                pub["size"],
                pub["value"],
                "s",
                color=c,
                mfc="none",
                ms=7,
                mew=1.5,
                label=f"{mode}: published (1 seed, full MNIST)",
            )
            for protocol, ls in (("carry_optimizer", "-"), ("independent", "--")):
                sub = table[(table.label_mode == mode) & (table.protocol == protocol) & (table.checkpoint == ckpt)]
                s = summarise(sub, "size", column)
                if not s.empty:
                    ax.plot(s["size"], s["mean"], ls, marker="o", ms=3.5, color=c, label=f"{mode}: {protocol} (here)")
        ax.set_yscale("log")
        ax.set_xlabel(AXIS_LABELS["size"])
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    notes = [
        "Published: the arrays of mfmotta/deep_learning_generalization_experiments (files/*_arrays_*.npz). "
        f"Here: mean over seeds, dataset {dataset}.",
        "carry_optimizer: sizes trained from 1024 down, Adam's state carried over (the original's protocol); "
        "independent: a fresh optimiser per size.",
        CHECKPOINT_NOTE.format(target=target),
    ]
    finish(
        fig,
        path,
        "The original experiment: published numbers vs its protocol and the independent one",
        notes,
        handles_from=panels[0],
        legend_columns=3,
    )


def plot_sign_error_cdf(environments: pd.DataFrame, path, shown: int = 8, min_ess=None) -> None:
    """Per checkpoint, the cumulative distribution over environments of each measure's sign
    error (raw forms, Dziugaite et al.'s weighting): the ``shown`` measures with the lowest mean
    and every baseline. A measure has one colour in every panel; measures whose distributions
    are identical share one line, labelled with all their names."""
    weighting = environments["weighting"] == "dziugaite2020"
    raw = environments[weighting & (environments["form"] == "raw") & environments["sign_error"].notna()]
    checkpoints = list(dict.fromkeys(environments["checkpoint"]))
    if raw.empty:
        need = (
            f"effective sample size of at least {min_ess:g}" if min_ess is not None else "enough effective sample size"
        )
        fig, ax = plt.subplots(figsize=(7, 2.5))
        ax.axis("off")
        ax.text(
            0.5,
            0.5,
            f"No environment was resolved: the study varies no axis, or no environment has an\n{need} "
            "(s seeds give at most s² pairs, fewer where error\ndifferences are within test-set noise).",
            ha="center",
            va="center",
        )
        finish(fig, path, "Robust sign error: no environment", [])
        return
    picks = {}
    for ckpt in checkpoints:
        means = raw[raw["checkpoint"] == ckpt].groupby("measure")["sign_error"].mean().sort_values()
        baselines = [m for m in means.index if entry(m).kind == "baseline"]
        picks[ckpt] = ([m for m in means.index if m not in baselines][:shown] + baselines, means)
    names = list(dict.fromkeys(m for p, _ in picks.values() for m in p))
    hues = [*range(0, 20, 2), *range(1, 20, 2)]  # tab20's strong colours first, their light twins after
    palette = {m: plt.get_cmap("tab20")(hues[i % 20]) for i, m in enumerate(names)}
    fig, axs = grid(len(checkpoints), len(checkpoints), width=5.2, height=6.4)
    for ax, ckpt in zip(axs, checkpoints):
        sub = raw[raw["checkpoint"] == ckpt]
        picked, means = picks[ckpt]
        curves = {}  # identical distributions drawn once
        for m in picked:
            e = np.sort(sub.loc[sub["measure"] == m, "sign_error"].to_numpy())
            curves.setdefault((entry(m).kind == "baseline", tuple(np.round(e, 12))), []).append(m)
        for (baseline, e), members in curves.items():
            e = np.array(e)
            label = ", ".join(members[:3]) + (f" and {len(members) - 3} more" if len(members) > 3 else "")
            ax.step(
                np.concatenate([[0.0], e, [1.0]]),
                np.concatenate([[0.0], np.arange(1, len(e) + 1) / len(e), [1.0]]),
                where="post",
                ls="--" if baseline else "-",
                color=palette[members[0]],
                lw=1.5,
                label=f"{label}: mean {means[members[0]]:.2f}, worst {e.max():.2f}",
            )
        ax.set_xlim(-0.01, 1.01)
        ax.set_ylim(0, 1.02)
        ax.set_xlabel("sign error in an environment")
        ax.set_ylabel("fraction of environments with at most that error")
        ax.set_title(f"at {ckpt}")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncols=1)
    n_env = raw.groupby("checkpoint", sort=False)["environment"].nunique()
    notes = [
        "Environment: two settings of the study's axes that differ in one axis; seeds are repeats inside it. "
        "Sign error ½(1 − sign Δμ · sign Δgap), weighted as Dziugaite et al. 2020 do (squared Hoeffding "
        "weight less a threshold).",
        "Resolved environments per checkpoint: "
        + ", ".join(f"{c} {n}" for c, n in n_env.items())
        + "; the others (too small an effective sample size) are left out, and so are measures "
        "constant over the runs.",
        f"Lines: per checkpoint the {shown} measures with the lowest mean sign error (raw forms); dashed: "
        "baselines; measures with identical distributions share a line.",
    ]
    finish(
        fig,
        path,
        "Robust sign error: its distribution over environments (a curve that rises early and "
        "reaches 1 early is better)",
        notes,
    )
