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
COLORS = {"correct": "tab:blue", "random": "tab:red", "wrong": "tab:purple", "acc1": "tab:green", "loss0": "tab:orange"}


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
