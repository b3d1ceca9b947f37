"""The ranking criteria against brute force and hand-made tables with known answers; the registry."""

import itertools
import math

import numpy as np
import pandas as pd
import pytest

from genstudy.ranking import (
    conditional_mutual_information,
    granulated_kendall,
    granulated_psi,
    kendall,
    rank_correlations,
)
from genstudy.registry import RegistryError, adjusted, check_record, columns, entry, ranked


def brute_tau_b(x, y):
    """Kendall's τ-b by counting every pair."""
    concordant = discordant = ties_x = ties_y = 0
    for i, j in itertools.combinations(range(len(x)), 2):
        dx, dy = np.sign(x[i] - x[j]), np.sign(y[i] - y[j])
        if dx == 0 and dy == 0:
            continue
        if dx == 0:
            ties_x += 1
        elif dy == 0:
            ties_y += 1
        elif dx == dy:
            concordant += 1
        else:
            discordant += 1
    return (concordant - discordant) / math.sqrt(
        (concordant + discordant + ties_x) * (concordant + discordant + ties_y)
    )


def test_kendall_is_tau_b_with_ties():
    rng = np.random.default_rng(0)
    for _ in range(5):
        x, y = rng.integers(0, 4, 12).astype(float), rng.integers(0, 5, 12).astype(float)
        tau, p, n = kendall(x, y)
        assert tau == pytest.approx(brute_tau_b(x, y)) and 0 <= p <= 1 and n == 12
    tau, _, n = kendall([1, 2, np.nan, 4], [1, 2, 3, np.nan])
    assert n == 2 and np.isnan(tau)  # too few defined pairs


def table(rows):
    """A measures-table stand-in: the columns ranking reads."""
    t = pd.DataFrame(rows)
    for k, v in dict(reached=True, diverged=False, checkpoint="loss0", label_mode="correct", seed=0).items():
        if k not in t:
            t[k] = v
    return t


def test_tau_scopes_orientation_and_counts():
    t = table(
        [
            dict(size=n, seed=s, label_mode=m, test_acc=acc, train_acc=1.0, l2_seed=c, reached=r)
            for (n, s, m, acc, c, r) in [
                (100, 0, "correct", 0.7, 1.0, True),
                (200, 0, "correct", 0.8, 0.5, True),
                (400, 0, "correct", 0.9, 0.25, True),
                (800, 0, "correct", 0.95, 9.0, False),
                (100, 0, "random", 0.1, 10.0, True),
                (200, 0, "random", 0.1, 20.0, True),
            ]
        ]
    )
    tau = rank_correlations(t).set_index(["measure", "form", "scope"])
    within = tau.loc[("l2_seed", "raw", "label_mode=correct,checkpoint=loss0")]
    # correct labels: error falls (0.3, 0.2, 0.1) as the measure falls: τ = +1; the unreached run is left out
    assert within.tau == pytest.approx(1.0) and within.n == 3 and within.left_out == 1
    everything = tau.loc[("l2_seed", "raw", "all")]
    ok = t.reached
    assert everything.tau == pytest.approx(brute_tau_b(t.l2_seed[ok].values, 1 - t.test_acc[ok].values))
    assert everything.n == 5 and everything.left_out == 1


def test_granulated_psi_averages_tau_over_one_axis_slices():
    # two label modes × three sizes; within "correct" the measure ranks sizes as the error does (τ = 1),
    # within "random" exactly backwards (τ = −1): ψ_size = 0. Across label modes at each size the
    # measure always puts "random" higher, as the error does: ψ_label_mode = 1.
    rows = []
    for m, errs, vals in (("correct", [0.3, 0.2, 0.1], [3, 2, 1]), ("random", [0.9, 0.85, 0.8], [4, 5, 6])):
        for n, e, v in zip((100, 200, 400), errs, vals):
            rows.append(dict(size=n, label_mode=m, test_acc=1 - e, train_acc=1.0, l2_seed=float(v)))
    t = table(rows)
    err, values = 1 - t.test_acc, t.l2_seed
    psi_size, n_size = granulated_psi(t, values, err, "size", ["size", "label_mode"])
    psi_mode, n_mode = granulated_psi(t, values, err, "label_mode", ["size", "label_mode"])
    assert (psi_size, n_size) == (pytest.approx(0.0), 2)
    assert (psi_mode, n_mode) == (pytest.approx(1.0), 3)
    g = granulated_kendall(t, ["size", "label_mode"]).set_index(["measure", "form", "axis"])
    assert g.loc[("l2_seed", "raw", "Psi"), "value"] == pytest.approx(0.5)
    # a measure of the label mode alone orders nothing across sizes: ψ_size = 0, so Ψ is halved
    noise = (t.label_mode == "random").astype(float)
    assert granulated_psi(t, noise, err, "size", ["size", "label_mode"]) == (0.0, 2)
    assert granulated_psi(t, noise, err, "label_mode", ["size", "label_mode"]) == (pytest.approx(1.0), 3)


def test_cmi_is_one_for_a_perfect_measure_and_zero_for_one_explained_by_an_axis():
    rows = [
        dict(size=n, label_mode=m, test_acc=1 - e, train_acc=1.0)
        for m, errs in (("correct", [0.3, 0.2, 0.1]), ("random", [0.9, 0.85, 0.8]))
        for n, e in zip((100, 200, 400), errs)
    ]
    t = table(rows)
    err = 1 - t.test_acc
    perfect, pairs = conditional_mutual_information(t, err.copy(), err, ["size", "label_mode"])
    assert perfect == pytest.approx(1.0) and pairs == 15
    # a function of the label mode alone says nothing once the label mode is known
    noise = (t.label_mode == "random").astype(float)
    explained, _ = conditional_mutual_information(t, noise, err, ["size", "label_mode"])
    assert explained == pytest.approx(0.0, abs=1e-12)


def test_registry_declares_every_column_once():
    cols = columns(depth=3, top_k=5)
    assert len(cols) == len(set(cols))
    assert {"fro_1", "fro_3", "spec_2", "hessian_eig_1", "hessian_eig_5"} <= set(cols) and "fro_4" not in cols
    assert entry("hessian_eig_1").ranked and not entry("hessian_eig_2").ranked
    assert entry("margin").kind == "diagnostic" and entry("inverse_margin").ranked
    assert entry("hessian_trace_hutchinson_se").kind == "diagnostic"
    assert entry("l2_margin_adj").name == "l2_margin"
    assert ranked(["margin", "l2_seed", "l2_seed_adj", "fro_2", "baseline_updates"]) == [
        "l2_seed",
        "l2_seed_adj",
        "baseline_updates",
    ]
    with pytest.raises(RegistryError, match="no entry"):
        entry("margin_adj")  # a diagnostic has no adjusted form
    with pytest.raises(RegistryError, match=r"\['made_up'\]"):
        check_record({"l2_seed": 1.0, "made_up": 2.0})


def test_adjusted_forms_follow_jiang_et_al():
    assert adjusted(400.0, 100, "sqrt") == pytest.approx(2.0)
    assert adjusted(math.e**6, math.e**2, "log") == pytest.approx(2.0)
    assert adjusted(-1.0, 10, "sqrt") is None and adjusted(0.0, 10, "log") is None and adjusted(None, 5, "sqrt") is None
