"""Every measure against an independent computation on tiny models."""

import itertools
import math

import numpy as np
import pytest

from genstudy import curvature as C
from genstudy import norms as N
from genstudy.flatness import pacbayes_sigma
from genstudy.model import cross_entropy, flatten, logits, unflatten
from helpers import brute_force_path_sum, finite_difference_hessian, tiny_data, tiny_params, top_eigenvalues


def min_abs_preactivation(params, x):
    h, smallest = x, np.inf
    for i in (1, 2):
        a = h @ params[f"W{i}"] + params[f"b{i}"]
        smallest = min(smallest, np.abs(a).min())
        h = np.maximum(a, 0)
    return smallest


@pytest.fixture(scope="module")
def tiny():
    # Finite differences are only exact away from ReLU kinks: take the first seed whose
    # pre-activations all stay clear of zero by far more than the difference step.
    seed = next(s for s in range(100) if min_abs_preactivation(tiny_params(s), tiny_data(s)[0]) > 5e-3)
    params = tiny_params(seed)
    x, y = tiny_data(seed)
    x[:, [1, 5]] = 0.0  # idle inputs, like MNIST's border pixels: their W1 rows have zero curvature
    loss = C.TrainingLoss(params, x, y)
    theta = flatten(params)
    return params, x, y, loss, theta


def numpy_loss(theta, params, x, y):
    return cross_entropy(logits(unflatten(theta, params), x), y).mean()


@pytest.fixture(scope="module")
def exact_hessian(tiny):
    params, x, y, loss, theta = tiny
    return finite_difference_hessian(params, x, y)


@pytest.mark.tensorflow
def test_loss_matches_numpy(tiny):
    params, x, y, loss, theta = tiny
    assert loss.value(theta) == pytest.approx(numpy_loss(theta, params, x, y), rel=1e-12)
    assert loss.dim == 8 * 4 + 4 + 4 * 3 + 3 + 3 * 10 + 10


@pytest.mark.tensorflow
def test_idle_inputs_have_zero_gradient_and_curvature(tiny, exact_hessian):
    params, x, y, loss, theta = tiny
    idle = np.zeros_like(params["W1"], bool)
    idle[[1, 5]] = True
    idle_flat = np.concatenate([idle.ravel(), np.zeros(loss.dim - idle.size, bool)])
    _, grad = loss.value_and_grad(theta)
    assert np.all(grad[idle_flat] == 0) and np.any(grad[~idle_flat] != 0)
    assert np.abs(exact_hessian[idle_flat]).max() < 1e-8


@pytest.mark.tensorflow
def test_hvp_equals_exact_hessian_times_v(tiny, exact_hessian):
    params, x, y, loss, theta = tiny
    rng = np.random.default_rng(0)
    for _ in range(3):
        v = rng.normal(size=loss.dim)
        hv = loss.hvp(theta, v)
        np.testing.assert_allclose(hv, exact_hessian @ v, rtol=1e-5, atol=1e-6 * np.abs(exact_hessian @ v).max())
    # and against double backprop, to float64 precision
    import tensorflow as tf

    t = tf.constant(theta[loss.keep])  # the parameters L depends on
    with tf.GradientTape() as outer:
        outer.watch(t)
        with tf.GradientTape() as inner:
            inner.watch(t)
            val = loss._loss(t)
        g = inner.gradient(val, t)
    H_ad = outer.jacobian(g, t).numpy()
    v = rng.normal(size=loss.dim)
    expected = np.zeros(loss.dim)
    expected[loss.keep] = H_ad @ v[loss.keep]
    np.testing.assert_allclose(loss.hvp(theta, v), expected, rtol=1e-10, atol=1e-12)


@pytest.mark.tensorflow
def test_top_eigenvalues_equal_eigvalsh(tiny, exact_hessian):
    params, x, y, loss, theta = tiny
    exact = np.sort(np.linalg.eigvalsh(exact_hessian))[::-1][:5]
    hvp = lambda v: loss.hvp(theta, v)
    tight, steps = top_eigenvalues(hvp, loss.dim, 5, np.random.default_rng(1), max_iter=200, tol=1e-12)
    np.testing.assert_allclose(tight, exact, rtol=1e-5)
    default, steps = top_eigenvalues(hvp, loss.dim, 5, np.random.default_rng(1), max_iter=100, tol=1e-3)
    np.testing.assert_allclose(default, exact, rtol=1e-2)
    assert np.all(np.diff(default) <= 0)


@pytest.mark.tensorflow
def test_slq_density_integrates_to_one_within_the_spectrum(tiny, exact_hessian):
    params, x, y, loss, theta = tiny
    nodes, weights = C.slq_density(lambda v: loss.hvp(theta, v), loss.dim, np.random.default_rng(3), runs=4, steps=30)
    assert nodes.shape == weights.shape == (4, 30)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, rtol=1e-10)
    ev = np.linalg.eigvalsh(exact_hessian)
    used = nodes[weights > 0]
    tol = 1e-6 * np.abs(ev).max()
    assert used.min() >= ev.min() - tol and used.max() <= ev.max() + tol


def test_norms_against_numpy_and_brute_force_paths():
    params = tiny_params(1)
    x, y = tiny_data(1)
    Ws = [params[f"W{i}"] for i in (1, 2, 3)]
    np.testing.assert_allclose(N.frobenius_norms(params), [np.sqrt((W**2).sum()) for W in Ws])
    np.testing.assert_allclose(N.spectral_norms(params), [np.linalg.svd(W, compute_uv=False)[0] for W in Ws])
    assert N.l2_seed(params) == pytest.approx(4 * np.prod([(W**2).sum() for W in Ws]))
    z = logits(params, x)
    m = np.array([z[i, y[i]] - np.max(np.delete(z[i], y[i])) for i in range(len(y))])
    np.testing.assert_allclose(N.margins(params, x, y), m)
    gamma = N.margin_gamma(params, x, y, 5)
    assert gamma == pytest.approx(np.percentile(m, 5))
    g = 0.7  # any positive γ: the /γ² is common to all measures
    h = [W.shape[1] for W in Ws]
    assert N.l2_over_margin(params, g) == pytest.approx(np.prod([4 * (W**2).sum() for W in Ws]) / g**2)
    spec = [np.linalg.svd(W, compute_uv=False)[0] for W in Ws]
    assert N.spectral_over_margin(params, g) == pytest.approx(np.prod([hi * s**2 for hi, s in zip(h, spec)]) / g**2)
    l2p = brute_force_path_sum(params, lambda W, i, a, b: 4 * h[i] * W[a, b] ** 2)
    assert N.l2_path_over_margin(params, g) == pytest.approx(l2p / g**2, rel=1e-10)
    l1p = brute_force_path_sum(params, lambda W, i, a, b: 2 * abs(W[a, b]))
    assert N.l1_path_over_margin(params, g) == pytest.approx(l1p**2 / g**2, rel=1e-10)
    p0 = tiny_params(2)
    diff = np.concatenate([(params[k] - p0[k]).ravel() for k in params])
    assert N.distance_to_init(params, p0) == pytest.approx(np.linalg.norm(diff))


@pytest.mark.tensorflow
def test_sharpness_is_nonnegative_and_grows_with_alpha(tiny):
    params, x, y, loss, theta = tiny
    vals = [
        C.sharpness(loss, theta, np.random.default_rng(4), alpha=a, steps=10, restarts=2) for a in (1e-4, 1e-3, 1e-2)
    ]
    assert vals[0] >= 0 and vals[0] < vals[1] < vals[2]
    # the maximiser respects the box: no perturbation in it raises the loss more than reported
    rng = np.random.default_rng(5)
    base = loss.value(theta)
    bound = 1e-3 * (np.abs(theta) + 1)
    for _ in range(20):
        nu = rng.uniform(-bound, bound)
        assert (loss.value(theta + nu) - base) / (1 + base) <= vals[1] + 1e-12


def test_pacbayes_sigma_is_invariant_to_rescaling_and_grows_when_weights_outgrow_the_noise_floor():
    params = tiny_params(3)
    x, y = tiny_data(3, n=200)
    y = logits(params, x).argmax(1)  # a net that fits its labels, so noise can cost accuracy
    kw = dict(target_drop=0.1, draws=8, halvings=12, noise="magnitude_aware")
    s = pacbayes_sigma(params, x, y, np.random.default_rng(6), epsilon=0.0, **kw)
    c = 3.0  # the same function: layer 1 scaled up, layer 2 down
    scaled = {**params, "W1": params["W1"] * c, "b1": params["b1"] * c, "W2": params["W2"] / c}
    np.testing.assert_allclose(logits(scaled, x), logits(params, x), rtol=1e-10)
    s_scaled = pacbayes_sigma(scaled, x, y, np.random.default_rng(6), epsilon=0.0, **kw)
    assert s_scaled == pytest.approx(s, abs=2 * 2.0**-12)
    assert 0 < s < 2
    # Scaling the output layer up keeps the function's argmax; with ε > 0 the fixed noise
    # floor then matters less, so σ' grows (it never shrinks), and with ε = 0 it is unchanged.
    up = {**params, "W3": params["W3"] * 3, "b3": params["b3"] * 3}
    assert pacbayes_sigma(up, x, y, np.random.default_rng(6), epsilon=0.0, **kw) == s
    s_eps = pacbayes_sigma(params, x, y, np.random.default_rng(6), epsilon=0.03, **kw)
    s_eps_up = pacbayes_sigma(up, x, y, np.random.default_rng(6), epsilon=0.03, **kw)
    assert s_eps < s_eps_up


@pytest.mark.tensorflow
def test_jacobian_norm_against_finite_differences():
    params = tiny_params(4, sizes=(6, 5, 4, 10))
    x, _ = tiny_data(4, n=5, d=6)

    def probs(xi):
        z = logits(params, xi[None])[0]
        e = np.exp(z - z.max())
        return e / e.sum()

    h = 1e-6
    fd = []
    for xi in x:
        J = np.stack([(probs(xi + h * e) - probs(xi - h * e)) / (2 * h) for e in np.eye(len(xi))], axis=1)
        fd.append(np.linalg.norm(J))
    assert C.jacobian_frobenius(params, x) == pytest.approx(np.mean(fd), rel=1e-6)
    # checkpoints hold float32 weights: they are taken to float64, like the inputs
    p32 = {k: v.astype(np.float32) for k, v in params.items()}
    exact = C.jacobian_frobenius({k: v.astype(np.float64) for k, v in p32.items()}, x.astype(np.float32).astype(float))
    assert C.jacobian_frobenius(p32, x.astype(np.float32)) == pytest.approx(exact, rel=1e-12)


def test_the_loss_is_computed_in_float64_from_float32_logits():
    z = np.random.default_rng(0).normal(size=(50, 10)).astype(np.float32) * 20
    y = np.arange(50) % 10
    z64 = z.astype(np.float64)
    expected = np.log(np.exp(z64 - z64.max(1, keepdims=True)).sum(1)) + z64.max(1) - z64[np.arange(50), y]
    np.testing.assert_allclose(cross_entropy(z, y), expected, rtol=1e-9)  # float32 arithmetic: ~1e-7


@pytest.mark.tensorflow
def test_hutchinson_stops_at_the_first_small_standard_error():
    """Replays the vectors it drew: it stops at the first m ≥ max(min_vectors, 2) whose
    standard error (sample std / √m) is below tol·|mean|, else at max_vectors."""
    rng = np.random.default_rng(0)
    a = rng.normal(size=(8, 8))
    H = a + a.T + 8 * np.eye(8)
    drawn = []

    def hvp(v):
        drawn.append(v.copy())
        return H @ v

    stopped_early = 0
    for tol, low, high in ((0.05, 3, 60), (0.2, 2, 60), (1e-9, 3, 7), (1e-9, 2, 2), (1.0, 1, 1)):
        drawn.clear()
        est, se, m = C.hutchinson_trace(hvp, 8, np.random.default_rng(1), tol=tol, min_vectors=low, max_vectors=high)
        samples = np.array([v @ H @ v for v in drawn])
        assert m == len(samples) and est == pytest.approx(samples.mean(), rel=1e-12)

        def small(k, samples=samples, tol=tol):
            s = samples[:k]
            return s.std(ddof=1) / np.sqrt(k) < tol * abs(s.mean())

        assert not any(small(k) for k in range(max(low, 2), m))
        assert m == high or small(m)
        stopped_early += m < high
        if m > 1:
            assert se == pytest.approx(samples.std(ddof=1) / np.sqrt(m), rel=1e-12)
        else:
            assert np.isnan(se)
    assert stopped_early == 2


def convex_box_problem():
    """A network without hidden layers: its loss is convex in the weights, so over a box its
    maximum is at a vertex, and an exhaustive search over the vertices finds it exactly."""
    params = tiny_params(11, sizes=(3, 2))
    x, y = tiny_data(11, n=10, d=3, classes=2)
    return params, x, y, C.TrainingLoss(params, x, y), flatten(params)


@pytest.mark.tensorflow
def test_sharpness_stays_in_its_box_and_finds_the_maximum_of_a_convex_loss():
    params, x, y, loss, theta = convex_box_problem()
    alpha = 0.5
    bound = alpha * (np.abs(theta) + 1)
    base = numpy_loss(theta, params, x, y)
    vertices = [
        numpy_loss(theta + np.array(s) * bound, params, x, y) for s in itertools.product([-1.0, 1.0], repeat=len(theta))
    ]
    best = (max(vertices) - base) / (1 + base)
    found = C.sharpness(loss, theta, np.random.default_rng(0), alpha=alpha, steps=20, restarts=3)
    assert 0.98 * best <= found <= best + 1e-9


class ScaledLoss:
    """A loss multiplied by a constant: at loss0 the loss and its gradient are ~1e-5 and smaller."""

    def __init__(self, loss, scale):
        self.loss, self.scale = loss, scale

    def value_and_grad(self, theta):
        value, grad = self.loss.value_and_grad(theta)
        return self.scale * value, self.scale * grad


@pytest.mark.tensorflow
def test_sharpness_is_as_good_on_a_loss_scaled_down_to_loss0_magnitudes():
    # L-BFGS-B with its default tolerances stops at once when gradients are ~1e-6: the maximiser's
    # ascent and its scaled polish must find the same maximiser whatever the loss' magnitude
    params = tiny_params(7, sizes=(3, 2, 2))
    x, y = tiny_data(7, n=12, d=3, classes=2)
    loss, theta = C.TrainingLoss(params, x, y), flatten(params)
    base = loss.value(theta)
    plain = C.sharpness(loss, theta, np.random.default_rng(0), alpha=0.05, steps=20, restarts=3) * (1 + base)
    scale = 1e-7
    tiny_loss = C.sharpness(
        ScaledLoss(loss, scale), theta, np.random.default_rng(0), alpha=0.05, steps=20, restarts=3
    ) * (1 + scale * base)
    assert plain > 0 and tiny_loss / scale == pytest.approx(plain, rel=1e-4)


def test_sign_ascent_starts_at_the_gradient_vertex_and_random_vertices():
    starts = []

    class Recording(ConcaveLoss):
        def value_and_grad(self, theta):
            starts.append(theta.copy())
            return super().value_and_grad(theta)

    loss = Recording([0.3, -0.5, 0.2])
    C.box_sharpness(loss, np.zeros(3), np.ones(3), np.random.default_rng(0), steps=1, restarts=3, polish_iter=0)
    # the base point, then per start: the start and its one step
    first, vertex, random_a, random_b = starts[0], starts[1], starts[3], starts[5]
    np.testing.assert_array_equal(first, 0.0)
    np.testing.assert_array_equal(vertex, np.sign(-2.0 * (np.zeros(3) - loss.a)))
    assert np.all(np.abs(random_a) == 1) and np.all(np.abs(random_b) == 1) and not np.array_equal(random_a, random_b)


class ConcaveLoss:
    """L(θ) = 1 − ‖θ − a‖²: its maximum over the box is inside it, at θ = a, where neither ν = 0
    nor any vertex lies, so only an ascent that follows the gradient finds it."""

    def __init__(self, a):
        self.a = np.asarray(a, np.float64)

    def value_and_grad(self, theta):
        return 1.0 - float(np.sum((theta - self.a) ** 2)), -2.0 * (theta - self.a)


def test_sharpness_climbs_to_a_maximum_inside_the_box():
    loss, theta = ConcaveLoss([0.3, -0.5, 0.2]), np.zeros(3)
    base = 1.0 - 0.38
    for restarts in (1, 3):
        found = C.sharpness(loss, theta, np.random.default_rng(0), alpha=1.0, steps=50, restarts=restarts)
        assert found == pytest.approx((1.0 - base) / (1.0 + base), rel=1e-6)


def test_lanczos_breakdown_is_relative_to_the_scale_of_the_matrix():
    """A matrix of eigenvalues 1e-12 … 5e-12 is as well conditioned as one of 1 … 5: every
    step's β is ~1e-12, which is no breakdown at that scale; a zero matrix breaks down at once."""
    eigenvalues = 1e-12 * np.arange(1.0, 6.0)
    res = C.lanczos(lambda v: eigenvalues * v, np.ones(5), max_steps=5)
    assert len(res.alpha) == 5
    np.testing.assert_allclose(np.sort(res.ritz()[0]), eigenvalues, rtol=1e-8)
    zero = C.lanczos(lambda v: 0.0 * v, np.ones(5), max_steps=5)
    assert len(zero.alpha) == 1 and zero.residual == 0.0


def test_hessian_lanczos_stops_once_the_top_k_have_converged():
    """200 well-separated eigenvalues: the top 2 converge long before 200 steps, and the run
    stops there with both residuals within tolerance."""
    eigenvalues = np.concatenate([[100.0, 50.0], np.linspace(0.0, 1.0, 198)])
    res = C.hessian_lanczos(lambda v: eigenvalues * v, 200, k=2, rng=np.random.default_rng(0), max_iter=200, tol=1e-8)
    values, residuals = res.ritz()
    assert len(res.alpha) < 50
    np.testing.assert_allclose(values[:2], [100.0, 50.0], rtol=1e-8)
    assert np.all(residuals[:2] <= 1e-8 * values[:2])


def test_measures_over_margin_are_empty_with_a_note_when_the_margin_is_negative():
    from genstudy.measures import Context, MeasureSettings, margin_measures, norm_measures

    params = tiny_params(5)
    x, _ = tiny_data(5, n=50)
    wrong = (logits(params, x).argmax(1) + 1) % 10  # labels the net gets wrong: every margin < 0
    c = Context(params, tiny_params(6), x, wrong, x, MeasureSettings.from_config(), loss=None)
    rec, notes = margin_measures(c)
    assert rec["margin"] < 0
    assert all(
        rec[k] is None for k in ("inverse_margin", "l2_margin", "spec_margin", "l1_path_margin", "l2_path_margin")
    )
    assert len(notes) == 1 and "margin" in notes[0] and "undefined" in notes[0] and "5th percentile" in notes[0]
    norms, _ = norm_measures(c)
    assert norms["l2_seed"] > 0 and norms["dist_init"] > 0


@pytest.mark.tensorflow
def test_exact_hessian_trace_equals_the_dense_hessians(tiny, exact_hessian):
    params, x, y, loss, theta = tiny
    exact = C.hessian_trace_exact(params, x)
    assert exact == pytest.approx(np.trace(exact_hessian), rel=1e-5)
    columns = np.stack([loss.hvp(theta, e) for e in np.eye(loss.dim)])  # autodiff, column by column
    assert exact == pytest.approx(np.trace(columns), rel=1e-10)
    assert C.hessian_trace_exact(params, x, batch=7) == pytest.approx(exact, rel=1e-12)  # batching is exact


@pytest.mark.tensorflow
def test_hutchinson_is_within_three_standard_errors_of_the_exact_trace(tiny):
    params, x, y, loss, theta = tiny
    exact = C.hessian_trace_exact(params, x)
    for seed in range(3):
        est, se, m = C.hutchinson_trace(
            lambda v: loss.hvp(theta, v),
            loss.dim,
            np.random.default_rng(seed),
            tol=0.02,
            min_vectors=10,
            max_vectors=400,
        )
        assert abs(est - exact) <= 3 * se
        assert se < 0.02 * abs(est) or m == 400  # stops on the standard error, not on a lucky sample


@pytest.mark.tensorflow
def test_sharpness_reaches_the_best_vertex_of_the_box():
    """Exhaustive search over every vertex of the box of a 14-parameter network: the
    maximiser must come within 2 % of the best vertex (it may beat it inside the box)."""
    params = tiny_params(7, sizes=(3, 2, 2))
    x, y = tiny_data(7, n=12, d=3, classes=2)
    loss = C.TrainingLoss(params, x, y)
    theta = flatten(params)
    alpha = 0.05
    bound = alpha * (np.abs(theta) + 1)
    base = numpy_loss(theta, params, x, y)
    signs = np.array(list(itertools.product([-1.0, 1.0], repeat=len(theta))))
    best_vertex = max(numpy_loss(theta + s * bound, params, x, y) for s in signs)
    vertex_sharpness = (best_vertex - base) / (1 + base)
    found = C.sharpness(loss, theta, np.random.default_rng(0), alpha=alpha, steps=20, restarts=3)
    assert vertex_sharpness > 0 and found >= 0.98 * vertex_sharpness


@pytest.mark.tensorflow
def test_unconverged_eigenvalues_are_left_empty_with_a_note(tiny):
    from genstudy.measures import MeasureSettings, checkpoint_measures

    params, x, y, loss, theta = tiny
    rough = MeasureSettings.from_config(
        dict(
            top_k=3,
            lanczos_max_iter=3,
            slq_steps=3,
            slq_runs=1,
            eig_tol=1e-9,
            trace_max_vectors=10,
            sharpness_steps=2,
            sharpness_restarts=1,
            flatness_draws=2,
            flatness_halvings=3,
        )
    )
    rec, notes, _, _ = checkpoint_measures(params, params, x, y, x, rough, loss=loss)
    assert rec["hessian_eig_steps"] == 3
    empty = [i for i in (1, 2, 3) if rec[f"hessian_eig_{i}"] is None]
    assert empty and any("not converged" in n and "lanczos_max_iter" in n for n in notes)
    fine = MeasureSettings.from_config(
        dict(
            top_k=3,
            lanczos_max_iter=200,
            slq_steps=10,
            slq_runs=1,
            trace_max_vectors=10,
            sharpness_steps=2,
            sharpness_restarts=1,
            flatness_draws=2,
            flatness_halvings=3,
        )
    )
    rec, notes, _, _ = checkpoint_measures(params, params, x, y, x, fine, loss=loss)
    assert all(rec[f"hessian_eig_{i}"] is not None for i in (1, 2, 3)) and not any("converged" in n for n in notes)


@pytest.mark.tensorflow
def test_both_pacbayes_flatness_measures_are_recorded(tiny):
    from genstudy.measures import MeasureSettings, checkpoint_measures

    params, x, y, loss, theta = tiny
    s = MeasureSettings.from_config(
        dict(
            top_k=2,
            slq_steps=5,
            slq_runs=1,
            trace_max_vectors=10,
            sharpness_steps=2,
            sharpness_restarts=1,
            flatness_draws=3,
            flatness_halvings=6,
        )
    )
    fitted = logits(params, x).argmax(1)
    rec, _, _, _ = checkpoint_measures(params, params, x, fitted, x, s, loss=C.TrainingLoss(params, x, fitted))
    assert rec["pacbayes_flatness"] == pytest.approx(1 / rec["pacbayes_sigma"] ** 2)
    assert rec["pacbayes_mag_flatness"] == pytest.approx(1 / rec["pacbayes_mag_sigma"] ** 2)
    assert rec["pacbayes_sigma"] != rec["pacbayes_mag_sigma"]


def test_isotropic_noise_ignores_magnitudes_and_magnitude_aware_noise_scales_with_them():
    from genstudy.flatness import NOISE

    w = np.array([0.0, 0.5, -2.0])
    np.testing.assert_allclose(NOISE["isotropic"](w, 0.1, 1e-3), [0.1, 0.1, 0.1])
    np.testing.assert_allclose(NOISE["magnitude_aware"](w, 0.1, 1e-3), np.sqrt(0.01 * w**2 + 1e-6))


@pytest.mark.tensorflow
def test_magnitude_sharpness_searches_the_box_that_scales_with_each_weight():
    """Convex loss: the best vertex of the box |ν_i| ≤ α(|w_i| + ε) is the maximum; a parameter
    near 0 barely moves, unlike in the plain box α(|w_i| + 1)."""
    params, x, y, loss, theta = convex_box_problem()
    alpha, eps = 0.5, 1e-3
    bound = alpha * (np.abs(theta) + eps)
    base = numpy_loss(theta, params, x, y)
    best = max(
        numpy_loss(theta + np.array(s) * bound, params, x, y) for s in itertools.product([-1.0, 1.0], repeat=len(theta))
    )
    found = C.magnitude_sharpness(loss, theta, np.random.default_rng(0), alpha, eps, steps=20, restarts=3)
    assert 0.98 * (best - base) / (1 + base) <= found <= (best - base) / (1 + base) + 1e-9
    assert found < C.sharpness(loss, theta, np.random.default_rng(0), alpha, steps=20, restarts=3)


@pytest.mark.parametrize("seed", range(6))
def test_the_polish_runs_scipys_l_bfgs_b_exactly(seed):
    """lbfgsb_on_cube drives scipy's compiled L-BFGS-B itself: the same points evaluated and the
    same final value as scipy.optimize.minimize on the box [-1, 1]^p, whether it stops at the
    iteration limit or converges first."""
    from scipy.optimize import Bounds, minimize

    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 400))
    A = rng.normal(size=(n, n)) / np.sqrt(n)
    H, b = A @ A.T - 0.3 * np.eye(n), rng.normal(size=n)
    points = ([], [])

    def objective(u, who):
        points[who].append(u.copy())
        return float(0.5 * u @ H @ u + b @ u + np.sin(u).sum()), H @ u + b + np.cos(u)

    x0 = rng.uniform(-1.5, 1.5, n)  # partly outside the box: both clip it first
    maxiter, tol = (int(rng.integers(1, 12)), 1e-12) if seed % 2 else (500, 1e-6)
    ref = minimize(
        lambda u: objective(u, 0),
        x0,
        jac=True,
        method="L-BFGS-B",
        bounds=Bounds(-1.0, 1.0),
        options={"maxiter": maxiter, "gtol": tol, "ftol": tol},
    )
    assert C.private_setulb() is not None  # the driver is what runs here
    assert C.lbfgsb_on_cube(lambda u: objective(u, 1), x0, maxiter, ftol=tol, gtol=tol) == ref.fun
    assert len(points[0]) == len(points[1]) and all(np.array_equal(p, q) for p, q in zip(*points))
    if not seed % 2:
        assert ref.nit < maxiter  # this one converged before the limit
    # both paths, the private driver and the public fallback, give the same maximiser
    f_driver, x_driver = C.lbfgsb_driver(lambda u: objective(u, 0), x0, maxiter, ftol=tol, gtol=tol)
    f_public, x_public = C.lbfgsb_minimize(lambda u: objective(u, 0), x0, maxiter, ftol=tol, gtol=tol)
    assert f_driver == f_public == ref.fun and np.array_equal(x_driver, x_public)


def test_the_polish_falls_back_to_scipys_public_l_bfgs_b_when_the_private_step_changes(monkeypatch):
    calls = []
    monkeypatch.setattr(C, "SETULB_SIGNATURE", "setulb(m,x,l,u,nbd,f,g,factr,pgtol,wa,iwa,task,csave)")
    monkeypatch.setattr(C, "lbfgsb_minimize", lambda *a: calls.append(a) or (1.5, None))
    assert C.private_setulb() is None
    assert C.lbfgsb_on_cube(lambda u: (float(u @ u), 2 * u), np.ones(3), 5, ftol=1e-9, gtol=1e-9) == 1.5
    assert len(calls) == 1


def test_the_pacbayes_search_ends_at_the_ends_of_its_bracket():
    """One class: no noise changes an argmax, so the accuracy never drops and the search
    climbs to the top bracket, or (for a target below zero) falls to the bottom one."""
    from genstudy.flatness import SIGMA_UPPER, pacbayes_sigma

    rng = np.random.default_rng(0)
    params = {
        "W1": rng.standard_normal((3, 4)),
        "b1": np.zeros(4),
        "W2": rng.standard_normal((4, 1)),
        "b2": np.zeros(1),
    }
    x, y = rng.standard_normal((8, 3)), np.zeros(8, int)
    kw = dict(draws=2, halvings=6, epsilon=1e-3, noise="isotropic")
    top = pacbayes_sigma(params, x, y, np.random.default_rng(1), target_drop=0.0, **kw)
    assert top == SIGMA_UPPER * (1 - 2.0**-7)  # a drop of exactly 0 is not more than 0
    assert pacbayes_sigma(params, x, y, np.random.default_rng(1), target_drop=-1.0, **kw) == SIGMA_UPPER * 2.0**-7


def test_norms_are_computed_in_float64_from_float32_weights():
    from genstudy.norms import distance_to_init, frobenius_norms

    rng = np.random.default_rng(0)
    params = {
        k: (1 + rng.random(s)).astype(np.float32)
        for k, s in (("W1", (300, 200)), ("b1", (200,)), ("W2", (200, 10)), ("b2", (10,)))
    }
    params0 = {k: (v * np.float32(0.999)).astype(np.float32) for k, v in params.items()}
    exact = [math.sqrt(math.fsum(float(w) ** 2 for w in params[k].ravel())) for k in ("W1", "W2")]
    assert frobenius_norms(params) == pytest.approx(exact, rel=1e-13)
    diff = math.sqrt(
        math.fsum((float(a) - float(b)) ** 2 for k in params for a, b in zip(params[k].ravel(), params0[k].ravel()))
    )
    assert distance_to_init(params, params0) == pytest.approx(diff, rel=1e-13)
