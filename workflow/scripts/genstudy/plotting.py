"""Figures: a quantity against training-set size, mean over seeds with a min–max band."""
from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

TRAINING_PANELS = (
    ("train_acc", "train accuracy"),
    ("test_acc", "test accuracy"),
    ("train_loss", "train loss"),
    ("test_loss", "test loss"),
    ("l2_seed", "L2 = 4·∏ ‖W_i‖_F²"),
    ("epoch", "epochs"),
)
COLORS = {"correct": "tab:blue", "random": "tab:red", "wrong": "tab:purple", "acc1": "tab:green", "loss0": "tab:orange",
          "all": "tab:gray"}


def spans_decades(values) -> bool:
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    return bool(len(v) and v.min() > 0 and v.max() / v.min() >= 10.0)


def seed_summary(df: pd.DataFrame, column: str) -> pd.DataFrame:
    """Per size: mean, min, max over seeds, and whether every seed reached the checkpoint."""
    g = df.groupby("size")
    out = g[column].agg(["mean", "min", "max"])
    out["all_reached"] = g["reached"].all() if "reached" in df else True
    return out.reset_index()


def _color(key, i):
    return COLORS.get(str(key), f"C{i % 10}")


def plot_against_size(table: pd.DataFrame, panels, series_col: str, series, title: str, path, ncols: int = 3):
    """One panel per (column, label); one line per value of ``series_col``.

    Points where some seed did not reach the checkpoint are drawn hollow: they show
    the weights at max_epochs instead.
    """
    panels = [(c, lab) for c, lab in panels if c in table and table[c].notna().any()]
    nrows = max(1, math.ceil(len(panels) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 3.3 * nrows), squeeze=False)
    for ax, (column, label) in zip(axes.flat, panels):
        for i, key in enumerate(series):
            df = table[table[series_col] == key].dropna(subset=[column])
            if df.empty:
                continue
            s = seed_summary(df, column)
            c = _color(key, i)
            ax.plot(s["size"], s["mean"], "-", color=c, label=str(key))
            ax.fill_between(s["size"], s["min"], s["max"], color=c, alpha=0.2, linewidth=0)
            full = s[s["all_reached"]]
            part = s[~s["all_reached"]]
            ax.plot(full["size"], full["mean"], "o", color=c, ms=4)
            ax.plot(part["size"], part["mean"], "o", mfc="white", mec=c, ms=5)
        if spans_decades(table[column]):
            ax.set_yscale("log")
        ax.set_xlabel("training-set size n")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="upper right", ncols=len(labels), frameon=False)
    fig.suptitle(title + "  (mean over seeds, band = min–max; hollow = not reached by max_epochs)", fontsize=10, x=0.01, ha="left")
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def broadened_density(nodes: np.ndarray, weights: np.ndarray, grid: np.ndarray, width: float) -> np.ndarray:
    """Σ_k w_k N(λ; node_k, width²) averaged over Lanczos runs (rows); PyHessian's smoothing."""
    ok = weights > 0
    runs = max(1, nodes.shape[0])
    z = (grid[:, None] - nodes[ok][None, :]) / width
    return (np.exp(-0.5 * z**2) * weights[ok][None, :]).sum(axis=1) / (runs * width * np.sqrt(2 * np.pi))


def plot_spectral_density(densities: dict, title: str, path):
    """One panel per label mode (their scales differ by decades): SLQ density over seeds, log y."""
    fig, axes = plt.subplots(1, len(densities), figsize=(5 * len(densities), 3.6), squeeze=False)
    for i, (ax, (mode, runs)) in enumerate(zip(axes.flat, densities.items())):
        nodes = np.concatenate([r["nodes"] for r in runs])
        weights = np.concatenate([r["weights"] for r in runs])
        finite = nodes[weights > 0]
        lo, hi = finite.min(), finite.max()
        span = max(hi - lo, 1e-12)
        grid = np.linspace(lo - 0.05 * span, hi + 0.05 * span, 2000)
        dens = broadened_density(nodes, weights, grid, width=0.01 * span)
        ax.semilogy(grid, np.maximum(dens, 1e-12), color=_color(mode, i))
        ax.set_title(f"{mode} labels (λ_max ≈ {hi:.3g})")
        ax.set_xlabel("eigenvalue λ")
        ax.set_ylabel("density (Gaussian-broadened SLQ)")
        ax.set_ylim(bottom=max(1e-8, dens.max() * 1e-8))
        ax.grid(alpha=0.3)
    fig.suptitle(title + " (all seeds and Lanczos runs pooled)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_rank_correlation(tau: pd.DataFrame, path):
    """Bars of Kendall's τ with test error per measure: all runs, and per checkpoint."""
    groups = list(dict.fromkeys(tau.runs))
    measures = list(dict.fromkeys(tau.measure))
    fig, ax = plt.subplots(figsize=(max(8, 0.45 * len(measures) * len(groups) / 2 + 3), 4.2))
    width = 0.8 / len(groups)
    x = np.arange(len(measures))
    for i, g in enumerate(groups):
        vals = tau[tau.runs == g].set_index("measure").reindex(measures)["tau"]
        ax.bar(x + (i - (len(groups) - 1) / 2) * width, vals, width, label=f"runs: {g}", color=_color(g, i))
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xticks(x, measures, rotation=60, ha="right", fontsize=8)
    ax.set_ylabel("Kendall τ with test error")
    ax.set_ylim(-1, 1)
    ax.legend(frameon=False, fontsize=8)
    ax.set_title("Which measure tracks generalization (τ = 1: ranks runs exactly as their test error)", fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
