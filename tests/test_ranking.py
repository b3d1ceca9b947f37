"""The ranking criteria against brute force and hand-made tables with known answers; the registry."""

import itertools
import math
import warnings

import numpy as np
import pandas as pd
import pytest

from genstudy.ranking import (
    conditional_mutual_information,
    granulated_kendall,
    granulated_psi,
    kendall,
    rank_correlations,
    ranked_columns,
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


def hand_table():
    rows = []
    for ckpt in ("acc1", "loss0"):
        for m, errs, vals in (("correct", [0.3, 0.2, 0.1], [3.0, 2.0, 1.0]), ("random", [0.9, 0.85, 0.8], [4, 5, 6])):
            for n, e, v in zip((100, 200, 400), errs, vals):
                rows.append(
                    dict(
                        size=n,
                        label_mode=m,
                        checkpoint=ckpt,
                        test_acc=1 - e,
                        train_acc=1.0,
                        l2_seed=float(v),
                        reached=True,
                        diverged=False,
                        margin=1.0,
                        seed=0,
                    )
                )
    return pd.DataFrame(rows)


def test_granulated_kendall_writes_every_row_exactly():
    g = granulated_kendall(hand_table(), ["size", "label_mode"])
    assert list(g.columns) == ["measure", "form", "checkpoint", "axis", "value", "n_slices"]
    expected = [("size", 0.0, 2), ("label_mode", 1.0, 3), ("Psi", 0.5, 2)]
    for ckpt in ("acc1", "loss0"):
        rows = g[g.checkpoint == ckpt]
        assert list(rows.measure) == ["l2_seed"] * 5 and list(rows.form) == ["raw"] * 5
        assert list(rows.axis) == ["size", "label_mode", "Psi", "CMI", "CMI_pgdl"]
        for axis, value, n in expected:
            r = rows[rows.axis == axis].iloc[0]
            assert (r.value, r.n_slices) == (pytest.approx(value), n)
        cmi = rows[rows.axis == "CMI"].iloc[0]
        assert 0 < cmi.value <= 1 and cmi.n_slices == 15


def test_cmi_edges_and_the_size_of_conditioning_sets():
    t = hand_table()
    t = t[t.checkpoint == "acc1"].reset_index(drop=True)
    err = 1 - t.test_acc
    assert conditional_mutual_information(t.iloc[:1], t.l2_seed.iloc[:1], err.iloc[:1], ["size"]) == (
        pytest.approx(np.nan, nan_ok=True),
        0,
    )
    assert conditional_mutual_information(t, t.l2_seed, err, []) == (pytest.approx(np.nan, nan_ok=True), 0)
    same = t.assign(size=100, label_mode="correct")  # no pair differs in an axis
    assert conditional_mutual_information(same, t.l2_seed, err, ["size", "label_mode"])[1] == 0
    with_nan = t.l2_seed.copy()
    with_nan.iloc[0] = np.nan
    assert conditional_mutual_information(t, with_nan, err, ["size", "label_mode"])[1] == 10  # 5 runs: 10 pairs
    # with three axes the minimum runs over sets of at most two: a measure that is a function of
    # (size, label_mode) is fully explained by that set, so its CMI is 0
    three = pd.concat([t.assign(lr=0.1), t.assign(lr=0.2, test_acc=t.test_acc - 0.01)], ignore_index=True)
    code = three["size"].astype(float) + 1000 * (three.label_mode == "random")
    assert conditional_mutual_information(three, code, 1 - three.test_acc, ["size", "label_mode", "lr"])[0] == 0


def test_rank_correlation_rows_counts_and_p_values():
    t = hand_table()
    t.loc[0, "reached"] = False
    tau = rank_correlations(t)
    assert list(tau.columns) == ["measure", "form", "scope", "tau", "p_value", "n", "left_out"]
    assert list(tau.scope) == [
        "all",
        "checkpoint=acc1",
        "checkpoint=loss0",
        "label_mode=correct,checkpoint=acc1",
        "label_mode=random,checkpoint=acc1",
        "label_mode=correct,checkpoint=loss0",
        "label_mode=random,checkpoint=loss0",
    ]
    first = tau.iloc[0]
    assert (first.measure, first.form, first.n, first.left_out) == ("l2_seed", "raw", 11, 1)
    assert 0 < first.p_value < 0.05
    cell = tau[tau.scope == "label_mode=correct,checkpoint=acc1"].iloc[0]
    assert (cell.n, cell.left_out) == (2, 1) and np.isnan(cell.tau)  # two runs: too few for τ there
    assert ranked_columns(t.assign(l2_seed_adj=1.0, margin=1.0)) == [
        ("l2_seed", "l2_seed", "raw"),
        ("l2_seed_adj", "l2_seed", "adjusted"),
    ]
    tau2, p, n = kendall([1, 2, 3], [1, 2, 3], min_n=3)
    assert (tau2, n) == (pytest.approx(1.0), 3) and np.isnan(kendall([1, 2], [1, 2])[0])
    assert kendall([1, 2], [1, 2], min_n=2)[0] == pytest.approx(1.0) and np.isnan(kendall([1, 1, 1], [1, 2, 3])[0])


def brute_force_cmi(rows: list[dict], v, e, axes):
    """Jiang et al.'s criterion from entropies: min over S of (H(G|U_S) − H(G|U_S, M)) / H(G|U_S),
    over ordered pairs of runs that differ in some axis, S of at most two axes and not all."""
    from collections import Counter

    def sign(z):
        return int(np.sign(z))

    pairs = [
        (i, j)
        for i in range(len(rows))
        for j in range(len(rows))
        if i != j and any(rows[i][a] != rows[j][a] for a in axes)
    ]
    best = math.inf
    for size in range(min(2, len(axes) - 1) + 1):
        for s in itertools.combinations(axes, size):
            obs = [(tuple((rows[i][a], rows[j][a]) for a in s), sign(v[i] - v[j]), sign(e[i] - e[j])) for i, j in pairs]
            n = len(obs)

            def cond_entropy(key, obs=obs, n=n):
                joint, given = Counter((key(o), o[2]) for o in obs), Counter(key(o) for o in obs)
                return -sum(c / n * math.log(c / given[k]) for (k, _), c in joint.items())

            h_u = cond_entropy(lambda o: o[0])
            if h_u > 0:
                best = min(best, (h_u - cond_entropy(lambda o: (o[0], o[1]))) / h_u)
    return (best if best < math.inf else math.nan), len(pairs) // 2


@pytest.mark.parametrize("n_axes", [1, 2, 3, 4])
def test_cmi_equals_a_brute_force_over_pairs_and_conditioning_sets(n_axes):
    rng = np.random.default_rng(n_axes)
    axes = ["a", "b", "c", "d"][:n_axes]
    t = pd.DataFrame({a: rng.integers(0, 2, 14) for a in axes})
    v, e = np.round(rng.random(14), 1), np.round(t.sum(axis=1) / 4 + rng.random(14) / 3, 1)
    got, pairs = conditional_mutual_information(t, pd.Series(v), pd.Series(e), axes)
    want, want_pairs = brute_force_cmi(t.to_dict("records"), v, e, axes)
    assert got == pytest.approx(want, abs=1e-12) and pairs == want_pairs and type(pairs) is int


def test_cmi_is_undefined_when_the_error_never_changes_sign_within_a_condition():
    t = pd.DataFrame({"size": [1, 2, 3, 4]})
    assert np.isnan(conditional_mutual_information(t, pd.Series([1.0, 2, 3, 4]), pd.Series([0.5] * 4), ["size"])[0])


def test_granulated_psi_slices():
    from genstudy.ranking import granulated_psi

    err = pd.Series([0.1, 0.2, 0.3, 0.4])
    one_axis = pd.DataFrame({"size": [1, 2, 3, 4], "seed": 0})
    values = pd.Series([1.0, 2.0, 4.0, 3.0])
    assert granulated_psi(one_axis, values, err, "size", ["size"]) == (pytest.approx(kendall(values, err)[0]), 1)
    nan_other = pd.DataFrame({"size": [1, 2, 1, 2], "lr": [0.1, 0.1, np.nan, np.nan], "seed": 0})
    assert granulated_psi(nan_other, values, err, "size", ["size", "lr"])[1] == 2  # NaN is a value: its own slice
    seeds_only = pd.DataFrame(
        {"size": [1, 2, 1, 1], "lr": [0.1, 0.1, 0.2, 0.2], "seed": [0, 0, 0, 1]}
    )  # lr 0.2: one size
    assert granulated_psi(seeds_only, values, err, "size", ["size", "lr"]) == (1.0, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no slice: NaN, without numpy's warning about an empty mean
        assert granulated_psi(seeds_only.assign(size=1), values, err, "size", ["size", "lr"])[1] == 0
        g = granulated_kendall(hand_table().assign(size=100, label_mode="correct"), ["size", "label_mode"])
    assert g[g.axis == "Psi"].value.isna().all() and (g[g.axis == "Psi"].n_slices == 0).all()


def test_kendall_ignores_missing_values_on_either_side():
    assert kendall([1, None, 3, 4, 5], [1, 2, 3, 4, None]) == (pytest.approx(1.0), pytest.approx(1 / 3), 3)


def test_ranking_tables_keep_their_columns_when_nothing_is_ranked():
    t = hand_table().drop(columns=["l2_seed", "margin"])
    assert list(rank_correlations(t).columns) == ["measure", "form", "scope", "tau", "p_value", "n", "left_out"]
    assert list(granulated_kendall(t, ["size"]).columns) == [
        "measure",
        "form",
        "checkpoint",
        "axis",
        "value",
        "n_slices",
    ]


def test_each_checkpoint_scope_holds_that_checkpoint_s_runs():
    from genstudy.ranking import test_error

    t = hand_table()
    t.loc[t.checkpoint == "loss0", "l2_seed"] = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    assert np.allclose(test_error(t), 1 - t.test_acc)
    tau = rank_correlations(t).set_index("scope").tau
    for ckpt in ("acc1", "loss0"):
        rows = t[t.checkpoint == ckpt]
        assert tau[f"checkpoint={ckpt}"] == pytest.approx(kendall(rows.l2_seed, 1 - rows.test_acc)[0])
    assert tau["checkpoint=acc1"] != pytest.approx(tau["checkpoint=loss0"])


def test_cmi_conditions_on_at_most_two_axes():
    """A measure that is a function of three of four axes is explained by those three, but
    the criterion conditions on at most two, so some information is left."""
    grid = pd.DataFrame(list(itertools.product([0, 1], repeat=4)), columns=list("abcd"))
    v = grid.a + 2 * grid.b + 4 * grid.c
    e = 0.1 * (grid.a + grid.b + grid.c) + 0.01 * np.random.default_rng(0).random(16)
    got, _ = conditional_mutual_information(grid, v.astype(float), e, list("abcd"))
    assert got > 0.05 and got == pytest.approx(brute_force_cmi(grid.to_dict("records"), v, e, list("abcd"))[0])
