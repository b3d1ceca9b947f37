"""The measures of Jiang et al. 2019 added beside the original set, each against an independent
numpy computation on tiny networks; the sharpness maximiser on real checkpoints of the default network."""

import math

import numpy as np
import pytest
from scipy.stats import entropy

from genstudy import flatness as F
from genstudy import norms as N
from genstudy import optimisation as O
from genstudy.measures import JIANG_MARGIN_NORMS, JIANG_NORMS
from genstudy.model import cross_entropy, flatten, logits, unflatten
from helpers import tiny_data, tiny_params


@pytest.fixture
def pair():
    return tiny_params(1, sizes=(6, 5, 4, 3)), tiny_params(2, sizes=(6, 5, 4, 3))


def kernels(p):
    return [p[f"W{i}"] for i in (1, 2, 3)]


def svd_max(W):
    return np.linalg.svd(W, compute_uv=False)[0]


def test_margin_free_norms_against_numpy(pair):
    p, p0 = pair
    fro2 = [np.sum(W * W) for W in kernels(p)]
    spec2 = [svd_max(W) ** 2 for W in kernels(p)]
    expected = {
        "prod_of_spec": math.prod(spec2),
        "sum_of_spec": 3 * math.prod(spec2) ** (1 / 3),
        "fro_over_spec": sum(f / s for f, s in zip(fro2, spec2)),
        "prod_of_fro": math.prod(fro2),
        "sum_of_fro": 3 * math.prod(fro2) ** (1 / 3),
        "fro_dist": sum(np.sum((W - W0) ** 2) for W, W0 in zip(kernels(p), kernels(p0))),
        "param_norm": sum(fro2),
        "dist_spec_init": sum(svd_max(W - W0) ** 2 for W, W0 in zip(kernels(p), kernels(p0))),
    }
    for name, value in expected.items():
        assert JIANG_NORMS[name](p, p0) == pytest.approx(value, rel=1e-10), name


def test_norms_over_the_margin_against_numpy(pair):
    p, p0 = pair
    g = 0.7
    spec2 = [svd_max(W) ** 2 for W in kernels(p)]
    fro2 = [np.sum(W * W) for W in kernels(p)]
    dist2 = [np.sum((W - W0) ** 2) for W, W0 in zip(kernels(p), kernels(p0))]
    expected = {
        "spec_init": math.prod(spec2) * sum(d / s for d, s in zip(dist2, spec2)) / g**2,
        "spec_orig": math.prod(spec2) * sum(f / s for f, s in zip(fro2, spec2)) / g**2,
        "prod_of_spec_margin": math.prod(spec2) / g**2,
        "prod_of_fro_margin": math.prod(fro2) / g**2,
        "sum_of_spec_margin": 3 * (math.prod(spec2) / g**2) ** (1 / 3),
        "sum_of_fro_margin": 3 * (math.prod(fro2) / g**2) ** (1 / 3),
        "fro_over_spec_margin": sum(f / s for f, s in zip(fro2, spec2)) / g**2,
    }
    assert set(expected) == set(JIANG_MARGIN_NORMS)
    for name, value in expected.items():
        assert JIANG_MARGIN_NORMS[name](p, p0, g) == pytest.approx(value, rel=1e-10), name


def test_path_norm_is_the_squared_network_on_ones_with_biases(pair):
    p, _ = pair
    squared = {k: v**2 for k, v in p.items()}
    assert N.path_norm(p) == pytest.approx(logits(squared, np.ones((1, 6))).sum(), rel=1e-12)
    # by enumeration of paths, biases starting paths of their own: a two-layer net
    q = tiny_params(3, sizes=(2, 2, 2))
    total = 0.0
    for k in range(2):  # output unit
        total += q["b2"][k] ** 2
        for j in range(2):  # hidden unit
            total += q["W2"][j, k] ** 2 * (q["b1"][j] ** 2 + sum(q["W1"][i, j] ** 2 for i in range(2)))
    assert N.path_norm(q) == pytest.approx(total, rel=1e-12)


def test_pacbayes_bounds_against_their_formulas():
    rng = np.random.default_rng(0)
    w, w0 = rng.normal(size=50), rng.normal(size=50)
    assert F.pacbayes_bound(w, w0, 0.2, 300) == pytest.approx(np.sum((w - w0) ** 2) / 0.16 + math.log(1500) + 10)
    sigma, eps, m = 0.3, 1e-3, 400
    d = w - w0
    kl = 0.25 * sum(math.log((eps**2 + (sigma**2 + 1) * np.mean(d**2)) / (eps**2 + sigma**2 * di**2)) for di in d)
    assert F.pacbayes_mag_bound(w, w0, sigma, eps, m) == pytest.approx(kl + math.log(m / sigma) + 10)


def numpy_loss(theta, params, x, y):
    return cross_entropy(logits(unflatten(theta, params), x), y).mean()


def test_loss_gradient_against_finite_differences():
    params = tiny_params(4)
    x, y = tiny_data(4)
    theta = flatten(params)
    g = O.loss_gradient(params, x, y)
    h = 1e-6
    fd = np.array(
        [
            (numpy_loss(theta + h * e, params, x, y) - numpy_loss(theta - h * e, params, x, y)) / (2 * h)
            for e in np.eye(len(theta))
        ]
    )
    np.testing.assert_allclose(g, fd, atol=1e-7)


def test_gradient_noise_is_the_mean_squared_deviation_of_the_minibatch_gradients():
    params = tiny_params(5)
    x, y = tiny_data(5, n=23)
    full = O.loss_gradient(params, x, y)
    order = np.random.default_rng(9).permutation(23)
    batches = [order[:8], order[8:16], order[16:]]  # the last one partial
    expected = np.mean([np.sum((O.loss_gradient(params, x[b], y[b]) - full) ** 2) for b in batches])
    assert O.gradient_noise(params, x, y, 8, np.random.default_rng(9)) == pytest.approx(expected)
    # a subset that is one mini-batch has no gradient noise to measure: undefined, not a number
    assert O.gradient_noise(params, x, y, 23, np.random.default_rng(9)) is None
    assert O.gradient_noise(params, x, y, 22, np.random.default_rng(9)) > 0


def test_optimisation_steps_from_a_history():
    history = np.array(
        [
            [0, 2.3, 0.1, 2.3, 0.1],
            [1, 0.5, 0.8, 0.6, 0.7],
            [2, 0.1, 0.9, 0.5, 0.7],
            [3, 0.05, 1.0, 0.5, 0.7],
            [4, 0.009, 1.0, 0.5, 0.7],
        ]
    )
    assert O.optimisation_steps(history, 7) == {"steps_to_ce01": 14, "steps_ce01_to_ce001": 14}
    assert O.optimisation_steps(history[:4], 7) == {"steps_to_ce01": 14, "steps_ce01_to_ce001": None}
    assert O.optimisation_steps(history[:2], 7) == {"steps_to_ce01": None, "steps_ce01_to_ce001": None}


def test_output_entropy_against_scipy():
    params = tiny_params(6)
    x, _ = tiny_data(6)
    z = logits(params, x)
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    assert O.output_entropy(params, x) == pytest.approx(np.mean([entropy(row) for row in p]), rel=1e-12)


def independent_sign_ascent(params, x, y, theta, bound, steps=300, eta=0.05):
    """Projected sign-gradient ascent with a fixed step from ν = 0, on the numpy loss and its
    numpy gradient: nothing shared with the maximiser under test."""
    base = numpy_loss(theta, params, x, y)
    nu, best = np.zeros_like(theta), 0.0
    for _ in range(steps):
        g = O.loss_gradient(unflatten(theta + nu, params), x, y)
        best = max(best, numpy_loss(theta + nu, params, x, y) - base)
        nu = np.clip(nu + eta * bound * np.sign(g), -bound, bound)
    return max(best, numpy_loss(theta + nu, params, x, y) - base) / (1 + base)


@pytest.fixture(scope="module")
def loss0_checkpoints(mnist5k_pool):
    """Real loss0 checkpoints of the default network (784-64-64-10, Adam 1e-3, batch 128):
    correct labels at n = 128 and random labels at n = 256, trained as the workflow trains."""
    from genstudy.data import make_labels
    from genstudy.model import glorot_uniform_init
    from genstudy.training import TrainSettings, train_to_targets

    x, y, xt, yt = mnist5k_pool
    params0 = glorot_uniform_init([784, 64, 64, 10], 0)
    out = {}
    for mode, n in (("correct", 128), ("random", 256)):
        idx = np.random.default_rng(n).permutation(len(x))[:n]
        labels = make_labels(y, mode, 1, 10)[idx]
        r = train_to_targets(
            params0,
            x[idx],
            labels,
            xt[:200],
            yt[:200],
            TrainSettings.with_defaults(max_epochs=4000, seed=0),
            log=lambda m: None,
        )
        assert r.loss0_epoch is not None
        out[mode] = (r.final_params, x[idx].astype(np.float64), labels)
    return out


@pytest.mark.tensorflow
@pytest.mark.parametrize("mode", ["correct", "random"])
def test_sharpness_is_maximised_at_real_loss0_checkpoints(loss0_checkpoints, mode):
    from genstudy.curvature import TrainingLoss, sharpness
    from genstudy.measures import MeasureSettings

    params, x, y = loss0_checkpoints[mode]
    params = {k: np.asarray(v, np.float64) for k, v in params.items()}
    theta = flatten(params)
    s = MeasureSettings.from_config()
    found = sharpness(
        TrainingLoss(params, x, y),
        theta,
        np.random.default_rng(0),
        s.sharpness_alpha,
        s.sharpness_steps,
        s.sharpness_restarts,
        s.sharpness_polish_iter,
    )
    reference = independent_sign_ascent(params, x, y, theta, s.sharpness_alpha * (np.abs(theta) + 1))
    assert found > 0 and found >= 0.97 * max(found, reference), (found, reference)
