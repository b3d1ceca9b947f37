"""The network of any depth: every measure against brute force on tiny networks of depth 1, 2 and 4,
the exact input compaction, and the file contract across depths."""

import numpy as np
import pytest

from genstudy import curvature as C
from genstudy import norms as N
from genstudy.arrays import load_checkpoint, load_params, save_npz
from genstudy.flatness import pacbayes_sigma
from genstudy.model import (
    InputCompaction,
    cross_entropy,
    depth_of,
    flatten,
    layer_sizes,
    logits,
    n_parameters,
    param_names,
)
from helpers import brute_force_path_sum, finite_difference_hessian, tiny_data, tiny_params, top_eigenvalues

# (inputs, hidden…, classes): depth 1, 2 and 4
ARCHITECTURES = {1: (6, 3), 2: (6, 4, 3), 4: (6, 3, 4, 2, 3)}


def min_abs_preactivation(params, x):
    h, smallest = x, np.inf
    for i in range(1, depth_of(params)):
        a = h @ params[f"W{i}"] + params[f"b{i}"]
        smallest = min(smallest, np.abs(a).min())
        h = np.maximum(a, 0)
    return smallest


def network(depth):
    """Tiny params and data clear of ReLU kinks (finite differences need that), one idle input."""
    sizes = ARCHITECTURES[depth]
    for seed in range(200):
        params = tiny_params(seed, sizes)
        x, y = tiny_data(seed, n=15, d=sizes[0], classes=sizes[-1])
        x[:, 2] = 0.0
        if min_abs_preactivation(params, x) > 5e-3:
            return params, x, y
    raise AssertionError("no kink-free tiny network found")


@pytest.mark.parametrize("depth", sorted(ARCHITECTURES))
def test_norm_measures_of_any_depth_against_brute_force(depth):
    params, x, y = network(depth)
    Ws = [params[f"W{i}"] for i in range(1, depth + 1)]
    h = [W.shape[1] for W in Ws]
    assert N.l2_seed(params) == pytest.approx(4 * np.prod([(W**2).sum() for W in Ws]))
    np.testing.assert_allclose(N.spectral_norms(params), [np.linalg.svd(W, compute_uv=False)[0] for W in Ws])
    g = 0.37
    spec = [np.linalg.svd(W, compute_uv=False)[0] for W in Ws]
    assert N.spectral_over_margin(params, g) == pytest.approx(np.prod([a * s**2 for a, s in zip(h, spec)]) / g**2)
    l2p = brute_force_path_sum(params, lambda W, i, a, b: 4 * h[i] * W[a, b] ** 2)
    assert N.l2_path_over_margin(params, g) == pytest.approx(l2p / g**2, rel=1e-10)
    l1p = brute_force_path_sum(params, lambda W, i, a, b: 2 * abs(W[a, b]))
    assert N.l1_path_over_margin(params, g) == pytest.approx(l1p**2 / g**2, rel=1e-10)
    z = logits(params, x)
    m = [z[i, y[i]] - np.max(np.delete(z[i], y[i])) for i in range(len(y))]
    np.testing.assert_allclose(N.margins(params, x, y), m)


@pytest.mark.tensorflow
@pytest.mark.parametrize("depth", sorted(ARCHITECTURES))
def test_curvature_of_any_depth_against_a_dense_hessian(depth):
    params, x, y = network(depth)
    H = finite_difference_hessian(params, x, y)
    loss = C.TrainingLoss(params, x, y)
    theta = flatten(params)
    assert loss.dim == n_parameters(ARCHITECTURES[depth]) == len(theta)
    assert loss.value(theta) == pytest.approx(cross_entropy(logits(params, x), y).mean(), rel=1e-12)
    v = np.random.default_rng(depth).normal(size=loss.dim)
    np.testing.assert_allclose(loss.hvp(theta, v), H @ v, rtol=1e-5, atol=1e-6 * np.abs(H @ v).max())
    top, _ = top_eigenvalues(
        lambda u: loss.hvp(theta, u), loss.dim, 2, np.random.default_rng(0), max_iter=loss.dim, tol=1e-12
    )
    np.testing.assert_allclose(top, np.sort(np.linalg.eigvalsh(H))[::-1][:2], rtol=1e-4)
    # the maximiser of sharpness is never beaten by random points of its box
    alpha = 1e-3
    s = C.sharpness(loss, theta, np.random.default_rng(1), alpha=alpha, steps=10, restarts=2)
    bound = alpha * (np.abs(theta) + 1)
    base = loss.value(theta)
    rng = np.random.default_rng(2)
    for _ in range(20):
        assert (loss.value(theta + rng.uniform(-bound, bound)) - base) / (1 + base) <= s + 1e-12


@pytest.mark.tensorflow
@pytest.mark.parametrize("depth", sorted(ARCHITECTURES))
def test_jacobian_and_flatness_of_any_depth(depth):
    params, x, _ = network(depth)

    def probs(xi):
        z = logits(params, xi[None])[0]
        e = np.exp(z - z.max())
        return e / e.sum()

    eps = 1e-6
    fd = [
        np.linalg.norm(
            np.stack([(probs(xi + eps * e) - probs(xi - eps * e)) / (2 * eps) for e in np.eye(len(xi))], axis=1)
        )
        for xi in x
    ]
    assert C.jacobian_frobenius(params, x) == pytest.approx(np.mean(fd), rel=1e-6)
    xs, _ = tiny_data(depth, n=200, d=ARCHITECTURES[depth][0])
    fitted = logits(params, xs).argmax(1)  # labels the network fits, so noise can cost accuracy
    sigma = pacbayes_sigma(
        params,
        xs,
        fitted,
        np.random.default_rng(3),
        target_drop=0.1,
        draws=4,
        halvings=10,
        epsilon=0.0,
        noise="magnitude_aware",
    )
    assert 0 < sigma < 2


def test_input_compaction_is_a_reversible_transform():
    params, x, _ = network(2)
    comp = InputCompaction.from_inputs(x)
    assert comp.idle.tolist() == [2] and len(comp.active) == 5
    small = comp.compact(params)
    assert small["W1"].shape == (5, 4) and small["W2"] is params["W2"]
    back = comp.expand(small, params["W1"])
    assert all(np.array_equal(back[k], params[k]) for k in params)
    np.testing.assert_array_equal(flatten(params)[comp.flat_mask(params)], flatten(small))
    x_other = x.copy()
    x_other[:, 2] = 1.5  # a test image with ink where training images had none
    full = logits(params, x_other)
    compact_first = comp.inputs(x_other) @ small["W1"] + small["b1"] + comp.idle_offset(x_other, params["W1"])
    np.testing.assert_allclose(compact_first, x_other @ params["W1"] + params["b1"])
    assert full.shape == (len(x), 3)
    kept = InputCompaction.from_inputs(x, keep=np.eye(6, dtype=bool)[2])
    assert kept.idle.size == 0


def test_param_names_follow_depth():
    assert param_names(1) == ("W1", "b1")
    assert param_names(3) == ("W1", "b1", "W2", "b2", "W3", "b3")
    assert depth_of({k: 0 for k in param_names(4)}) == 4


def test_layer_sizes_run_from_the_inputs_through_the_hidden_widths_to_the_classes():
    sizes = layer_sizes(np.int64(3072), (np.int64(64), "32", 16), 3)  # widths as parsed from a wildcard or YAML
    assert sizes == [3072, 64, 32, 16, 3] and all(type(n) is int for n in sizes)
    assert layer_sizes(784, [], 10) == [784, 10]


def test_checkpoints_of_every_depth_load_and_todays_three_layer_files_too(tmp_path):
    for depth, sizes in ARCHITECTURES.items():
        params = {k: v.astype(np.float32) for k, v in tiny_params(0, sizes).items()}
        save_npz(tmp_path / f"d{depth}.npz", epoch=7, reached=True, **params)
        loaded, epoch, reached = load_checkpoint(tmp_path / f"d{depth}.npz")
        assert list(loaded) == list(param_names(depth)) and epoch == 7 and reached
    # a checkpoint as np.savez wrote it before depth was free: W1 b1 W2 b2 W3 b3 of 784-64-64-10
    rng = np.random.default_rng(0)
    old = {
        "W1": rng.normal(size=(784, 64)),
        "b1": np.zeros(64),
        "W2": rng.normal(size=(64, 64)),
        "b2": np.zeros(64),
        "W3": rng.normal(size=(64, 10)),
        "b3": np.zeros(10),
    }
    np.savez(tmp_path / "old.npz", epoch=np.array(12), reached=np.array(True), **old)
    loaded = load_params(tmp_path / "old.npz")
    assert depth_of(loaded) == 3 and loaded["W3"].shape == (64, 10)
