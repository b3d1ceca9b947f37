"""Figures, drawn from synthetic tables: what a point, a band and a tick stand for."""

import numpy as np
import pandas as pd
import pytest

from genstudy import plotting


@pytest.fixture()
def drawn(monkeypatch):
    """The figures the plotting functions finish, kept open for inspection."""
    figures = []
    finish = plotting.finish

    def keep(fig, path, *args, **kwargs):
        figures.append([(ax, [t.get_text() for t in ax.get_xticklabels()]) for ax in fig.axes])
        figures[-1].append(fig.axes[0].get_legend_handles_labels()[1])
        finish(fig, path, *args, **kwargs)

    monkeypatch.setattr(plotting, "finish", keep)
    return figures


def runs_table(learning_rates=(0.001,), diverged_at=None):
    rows = []
    for lr in learning_rates:
        for size in (32, 64):
            for seed in range(3):
                bad = diverged_at == (size, seed)
                rows.append(
                    dict(
                        label_mode="correct",
                        learning_rate=lr,
                        size=size,
                        seed=seed,
                        checkpoint="loss0",
                        reached=True,
                        diverged=bad,
                        test_acc=0.01 if bad else 0.5 + 0.1 * seed,
                        test_loss=50.0 if bad else 1.0 + seed,
                        train_loss=1e-5,
                        l2_seed=1e9 if bad else 1e6 * (1 + seed),
                        epoch=100 + seed,
                        updates=200 + seed,
                    )
                )
    return pd.DataFrame(rows)


def test_a_diverged_run_is_left_out_of_the_lines_and_bands_and_drawn_with_its_own_marker(tmp_path, drawn):
    table = runs_table(diverged_at=(64, 2))
    plotting.plot_training(table, "label_mode", ["correct"], "t", tmp_path / "f.png", ["size"], 1e-5, 10)
    panels, legend = drawn[-1][:-1], drawn[-1][-1]
    test_error = panels[0][0]
    mean_line = next(line for line in test_error.get_lines() if line.get_linestyle() == "-")
    np.testing.assert_allclose(mean_line.get_ydata(), [1 - 0.6, 1 - 0.55])  # n = 64: seeds 0 and 1 only
    crosses = [line for line in test_error.get_lines() if line.get_marker() == "x"]
    assert len(crosses) == 1 and list(crosses[0].get_xdata()) == [64] and list(crosses[0].get_ydata()) == [0.99]
    assert legend.count(plotting.DIVERGED_LABEL) == 1
    assert "×: a diverged run" in plotting.aggregation_note(table, ["size"], ["size"])
    assert "diverged" not in plotting.aggregation_note(runs_table(), ["size"], ["size"])


def test_the_learning_rate_axis_has_its_ticks_at_the_study_s_values(tmp_path, drawn):
    rates = (0.001953125, 0.0078125, 0.03125, 10.0, 100.0)
    table = runs_table(learning_rates=rates)
    plotting.plot_against_axis(table, "learning_rate", "norm", tmp_path / "f.png", ["learning_rate", "size"], 1e-5, 10)
    for ax, labels in drawn[-1][:-1]:
        if ax.has_data():
            assert list(ax.get_xticks()) == list(rates)
            assert labels == [plotting.plain_number(v) for v in rates]


def test_a_log_axis_inside_one_decade_keeps_labelled_ticks():
    for low, high in [(5.5e6, 9.5e6), (6.1e6, 6.4e6), (2.2e6, 6.6e6), (1.0, 1e6), (9.92e-6, 9.9997e-6)]:
        ticks = [t for t in plotting.log_ticks(low, high).tick_values(low, high) if low <= t <= high]
        assert 2 <= len(ticks) <= 6, (low, high)


def test_a_training_loss_that_every_run_stops_just_under_the_target_is_drawn_with_labelled_ticks():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.fill_between([256, 512], [9.92e-6, 9.93e-6], [9.999e-6, 9.998e-6])
    ax.plot([256, 512], [9.97e-6, 9.96e-6])
    plotting.style_axis(ax, "train_loss", "n")
    ax.axhline(1e-5, color="k", ls="--")
    fig.canvas.draw()
    low, high = ax.get_ylim()
    shown = [t.get_text() for t in ax.get_yticklabels() if t.get_text() and low <= t.get_position()[1] <= high]
    plt.close(fig)
    assert len(shown) >= 2, shown


def test_tick_labels_are_short_and_never_shared_by_two_ticks():
    assert [plotting.plain_number(v) for v in (3e6, 2.5e5, 1e-5, 100, 0.5)] == ["3e6", "2.5e5", "1e-5", "100", "0.5"]
    ticks = [1.5e5, 2e5, 2.5e5, 3e5, 3.5e5, 4e5, 4.5e5]
    assert len({plotting.plain_number(t) for t in ticks}) == len(ticks)


def test_the_ranking_figure_stars_what_the_intervals_resolve_and_names_the_pgdl_column():
    from genstudy.plotting import ranking_matrix

    tau = pd.DataFrame(
        [
            dict(measure="l2_seed", form="raw", scope="checkpoint=loss0", tau=0.9, p_value=1e-6),
            dict(measure="dist_init", form="raw", scope="checkpoint=loss0", tau=0.5, p_value=1e-4),
        ]
    )
    psi = pd.DataFrame(
        [
            dict(measure=m, form="raw", checkpoint="loss0", axis=a, value=v)
            for m, v in (("l2_seed", 0.8), ("dist_init", 0.4))
            for a in ("size", "Psi", "CMI", "CMI_pgdl")
        ]
    )

    def interval(measure, criterion, low, high):
        return dict(
            measure=measure, form="raw", scope="checkpoint=loss0", criterion=criterion, ci_low=low, ci_high=high
        )

    intervals = pd.DataFrame(
        [
            interval("l2_seed", "tau", 0.7, 1.0),
            interval("dist_init", "tau", -0.2, 0.9),  # p < 1e-4, yet the interval holds 0: no star
            interval("l2_seed", "psi_size", 0.1, 0.9),
            interval("dist_init", "Psi", -0.1, 0.8),
            interval("l2_seed", "CMI", 0.05, 0.6),
        ]
    )
    rows = [("l2_seed", "raw"), ("dist_init", "raw")]
    cols, values, stars = ranking_matrix(tau, psi, rows, intervals)
    labels = [c[1] for c in cols]
    assert labels == ["loss0", "ψ size @ loss0", "Ψ @ loss0", "CMI @ loss0", "CMI (PGDL) @ loss0"]
    assert stars.tolist() == [["*", "*", "", "*", ""], ["", "", "", "", ""]]
    assert values[0, 4] == 0.8 and values[1, 0] == 0.5


def test_a_log_axis_labels_the_whole_band_not_only_the_mean_line():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([1, 2], [90.0, 120.0])
    ax.fill_between([1, 2], [90.0, 90.0], [90.0, 200.0])  # the band reaches far above the line
    plotting.style_axis(ax, "l2_seed", "n")
    assert ax.get_yscale() == "log"
    ticks = [t for t in ax.yaxis.get_major_locator().tick_values(90.0, 200.0) if 90.0 <= t <= 200.0]
    assert max(ticks) >= 200.0 and min(ticks) <= 100.0  # from the mean line alone: 90 and 100 only
    plt.close(fig)
