"""Loss curvature of the training objective, in float64 TensorFlow.

The objective is the mean softmax cross-entropy over the whole training subset,
with the labels trained on, as a function of all parameters (weights and biases)
flattened into one vector θ in the order W1 b1 … WL bL (``model.flatten``). The Hessian is never
formed: everything goes through Hessian-vector products (HVP) computed
forward-over-backward (a ``ForwardAccumulator`` around a ``GradientTape``), the
memory-efficient form used by PyHessian (Yao et al. 2020, arXiv 1912.07145).

Near a loss of 1e-5 the curvature is tiny, so all of it runs in float64.
Estimators take a numpy Generator; the same seed gives the same numbers.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .model import InputCompaction, flatten, ordered, tf_cross_entropy, tf_logits, tf_unflatten
from .runtime import configure_tensorflow


class TrainingLoss:
    """Mean training cross-entropy L(θ) with compiled value, gradient and HVP.

    θ is always the full parameter vector (``model.flatten`` order). Inside, the
    inputs that are zero in every training example are left out (``InputCompaction``):
    L does not depend on their W1 rows, so their gradient and every Hessian entry
    involving them are exactly 0, and results are scattered back with those zeros.
    """

    def __init__(self, params_like: dict, x: np.ndarray, y: np.ndarray, threads: int = 1):
        tf = configure_tensorflow(threads)
        self.tf = tf
        x = np.asarray(x, np.float64)
        if x.shape[1] != np.shape(params_like["W1"])[0]:
            raise ValueError(f"x has {x.shape[1]} features but W1 has {np.shape(params_like['W1'])[0]} rows")
        compaction = InputCompaction.from_inputs(x)
        self.dim = int(flatten(params_like).size)
        self.keep = compaction.flat_mask(params_like)
        self.shapes = [np.shape(p) for p in ordered(compaction.compact(params_like))]
        self.x = tf.constant(compaction.inputs(x))
        self.y1h = tf.one_hot(np.asarray(y, np.int64), self.shapes[-1][0], dtype=tf.float64)
        spec = tf.TensorSpec([int(self.keep.sum())], tf.float64)
        self._value = tf.function(self._loss, input_signature=[spec])
        self._value_and_grad = tf.function(self._loss_and_grad, input_signature=[spec])
        self._hvp = tf.function(self._hvp_graph, input_signature=[spec, spec])

    def _loss(self, theta):
        tf = self.tf
        z = tf_logits(tf_unflatten(theta, self.shapes), self.x)
        return tf.reduce_mean(tf_cross_entropy(z, self.y1h))

    def _loss_and_grad(self, theta):
        with self.tf.GradientTape() as tape:
            tape.watch(theta)
            loss = self._loss(theta)
        return loss, tape.gradient(loss, theta)

    def _hvp_graph(self, theta, v):
        tf = self.tf
        with tf.autodiff.ForwardAccumulator(primals=theta, tangents=v) as acc:
            with tf.GradientTape() as tape:
                tape.watch(theta)
                loss = self._loss(theta)
            grad = tape.gradient(loss, theta)
        return acc.jvp(grad)

    def _scatter(self, active_values) -> np.ndarray:
        out = np.zeros(self.dim)
        out[self.keep] = active_values
        return out

    def _active(self, theta) -> np.ndarray:
        theta = np.asarray(theta, np.float64)
        if theta.shape != (self.dim,):
            raise ValueError(f"expected a parameter vector of shape ({self.dim},), got {theta.shape}")
        return theta[self.keep]

    def value(self, theta) -> float:
        return float(self._value(self._active(theta)).numpy())

    def value_and_grad(self, theta):
        loss, grad = self._value_and_grad(self._active(theta))
        return float(loss.numpy()), self._scatter(grad.numpy())

    def hvp(self, theta, v) -> np.ndarray:
        return self._scatter(self._hvp(self._active(theta), self._active(v)).numpy())


def rademacher(rng: np.random.Generator, dim: int) -> np.ndarray:
    return rng.integers(0, 2, size=dim).astype(np.float64) * 2.0 - 1.0


@dataclass
class LanczosResult:
    alpha: np.ndarray
    beta: np.ndarray  # off-diagonal, len(alpha) - 1

    def tridiagonal(self) -> np.ndarray:
        return np.diag(self.alpha) + np.diag(self.beta, 1) + np.diag(self.beta, -1)


def lanczos(matvec, v0: np.ndarray, max_steps: int, stop=None) -> LanczosResult:
    """Lanczos tridiagonalisation with full re-orthogonalisation (twice, for float64 safety).

    Stops early on breakdown (an invariant subspace: β ≈ 0) or when ``stop(alpha, beta)``
    returns True after a step.
    """
    dim = len(v0)
    steps = min(max_steps, dim)
    Q = np.zeros((steps, dim))
    q = v0 / np.linalg.norm(v0)
    alphas, betas = [], []
    for j in range(steps):
        Q[j] = q
        w = matvec(q)
        a = float(q @ w)
        alphas.append(a)
        basis = Q[: j + 1]
        for _ in range(2):
            w = w - basis.T @ (basis @ w)
        b = float(np.linalg.norm(w))
        scale = max(abs(x) for x in alphas + betas) or 1.0
        if stop is not None and stop(np.array(alphas), np.array(betas)):
            break
        if j == steps - 1 or b <= 1e-10 * scale:
            break
        betas.append(b)
        q = w / b
    return LanczosResult(np.array(alphas), np.array(betas[: len(alphas) - 1]))


def hessian_top_eigenvalues(hvp, dim: int, k: int, rng: np.random.Generator, max_iter: int = 100,
                            tol: float = 1e-3) -> tuple[np.ndarray, int]:
    """Top-k (largest algebraic) Hessian eigenvalues, descending, by Lanczos.

    After each Lanczos step with at least k Ritz values, stop once every one of the
    top-k Ritz values changed by less than ``tol`` relative to the previous step
    (PyHessian's criterion, there applied to power iteration). Returns the values and
    the number of HVPs used. Extreme Ritz values converge first, which is why Lanczos
    needs far fewer products than power iteration with deflation.
    """
    prev = [None]

    def converged(alpha, beta):
        if len(alpha) < k:
            return False
        T = LanczosResult(alpha, beta[: len(alpha) - 1]).tridiagonal()
        top = np.sort(np.linalg.eigvalsh(T))[::-1][:k]
        done = prev[0] is not None and np.all(np.abs(top - prev[0]) <= tol * np.maximum(np.abs(top), 1e-300))
        prev[0] = top
        return bool(done)

    res = lanczos(hvp, rademacher(rng, dim), max_iter, stop=converged)
    top = np.sort(np.linalg.eigvalsh(res.tridiagonal()))[::-1][:k]
    if len(top) < k:
        top = np.concatenate([top, np.full(k - len(top), np.nan)])
    return top, len(res.alpha)


def hutchinson_trace(hvp, dim: int, rng: np.random.Generator, tol: float = 1e-3, min_vectors: int = 10,
                     max_vectors: int = 200) -> tuple[float, float, int]:
    """tr(H) ≈ mean of vᵀHv over Rademacher v (Hutchinson 1990; PyHessian).

    Adds vectors until the running mean changes by less than ``tol`` relative (after
    at least ``min_vectors``) or ``max_vectors`` are used. Returns (mean, standard
    error = sample std / √m, m).
    """
    samples = []
    mean = 0.0
    for m in range(1, max_vectors + 1):
        v = rademacher(rng, dim)
        samples.append(float(v @ hvp(v)))
        new_mean = float(np.mean(samples))
        if m >= min_vectors and abs(new_mean - mean) <= tol * abs(new_mean):
            mean = new_mean
            break
        mean = new_mean
    s = np.asarray(samples)
    se = float(s.std(ddof=1) / np.sqrt(len(s))) if len(s) > 1 else float("nan")
    return mean, se, len(s)


def slq_density(hvp, dim: int, rng: np.random.Generator, runs: int = 3, steps: int = 60) -> tuple[np.ndarray, np.ndarray]:
    """Stochastic Lanczos quadrature of the Hessian's spectral density (Ghorbani et al. 2019).

    Per run: Lanczos from a normalised Rademacher vector with full re-orthogonalisation;
    nodes = eigenvalues of the tridiagonal T, weights = squared first components of its
    eigenvectors (they sum to 1). Returns (nodes, weights), each (runs, steps); runs that
    broke down early are padded with nodes NaN and weights 0. The density estimate is
    Σ_runs Σ_k weights/runs · δ(λ − node).
    """
    nodes = np.full((runs, steps), np.nan)
    weights = np.zeros((runs, steps))
    for r in range(runs):
        res = lanczos(hvp, rademacher(rng, dim), steps)
        evals, evecs = np.linalg.eigh(res.tridiagonal())
        m = len(evals)
        nodes[r, :m] = evals
        weights[r, :m] = evecs[0] ** 2
    return nodes, weights


def sharpness(loss: TrainingLoss, theta: np.ndarray, rng: np.random.Generator, alpha: float = 5e-4,
              steps: int = 20, restarts: int = 3) -> float:
    """Keskar et al. 2017 sharpness as in Neyshabur et al. 2017:

        max_{|ν_i| ≤ α(|w_i| + 1)} [L(w + ν) − L(w)] / (1 + L(w)),

    maximised by projected (sign-)gradient ascent in the box, from ν = 0 and from
    ``restarts − 1`` uniform random points, ``steps`` steps of 2.5·bound/steps each.
    ν = 0 is feasible, so the result is ≥ 0.
    """
    theta = np.asarray(theta, np.float64)
    bound = alpha * (np.abs(theta) + 1.0)
    base = loss.value(theta)
    best = base
    step = 2.5 / max(steps, 1) * bound
    for r in range(max(restarts, 1)):
        nu = np.zeros_like(theta) if r == 0 else rng.uniform(-bound, bound)
        for _ in range(steps):
            value, grad = loss.value_and_grad(theta + nu)
            best = max(best, value)
            nu = np.clip(nu + step * np.sign(grad), -bound, bound)
        best = max(best, loss.value(theta + nu))
    return (best - base) / (1.0 + base)


_JACOBIAN_NORMS = None


def _jacobian_norms_function(tf):
    """‖∂ softmax(f(x)) / ∂x‖_F per row of x, compiled once per process: the weights are
    arguments, so every checkpoint of a measures job reuses the same graph."""
    global _JACOBIAN_NORMS
    if _JACOBIAN_NORMS is None:

        def norms(weights, xb):
            with tf.GradientTape() as tape:
                tape.watch(xb)
                p = tf.nn.softmax(tf_logits(weights, xb))
            J = tape.batch_jacobian(p, xb)
            return tf.sqrt(tf.reduce_sum(J * J, axis=[1, 2]))

        _JACOBIAN_NORMS = tf.function(norms, reduce_retracing=True)
    return _JACOBIAN_NORMS


def jacobian_frobenius(params: dict, x: np.ndarray, threads: int = 1, batch: int = 250) -> float:
    """Novak et al. 2018 (arXiv 1802.08760): mean over points of ‖∂ softmax(f(x)) / ∂x‖_F."""
    tf = configure_tensorflow(threads)
    norms = _jacobian_norms_function(tf)
    weights = [tf.constant(np.asarray(p, np.float64)) for p in ordered(params)]
    x = np.asarray(x, np.float64)
    out = [norms(weights, tf.constant(x[i : i + batch])).numpy() for i in range(0, len(x), batch)]
    return float(np.mean(np.concatenate(out)))
