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

from .model import InputCompaction, depth_of, flatten, ordered, tf_cross_entropy, tf_logits, tf_unflatten
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

    def hvp_at(self, theta):
        """v ↦ Hv at a fixed θ, with θ's compaction done once for all the products."""
        active = self.tf.constant(self._active(theta))
        return lambda v: self._scatter(self._hvp(active, self._active(v)).numpy())


def rademacher(rng: np.random.Generator, dim: int) -> np.ndarray:
    return rng.integers(0, 2, size=dim).astype(np.float64) * 2.0 - 1.0


@dataclass
class LanczosResult:
    alpha: np.ndarray
    beta: np.ndarray  # off-diagonal, len(alpha) - 1
    residual: float = 0.0  # ‖r‖ after the last step: the β the next step would have had

    def tridiagonal(self) -> np.ndarray:
        return np.diag(self.alpha) + np.diag(self.beta, 1) + np.diag(self.beta, -1)

    def leading(self, steps: int) -> LanczosResult:
        """The run as it stood after ``steps`` steps (its T is the leading block)."""
        if steps >= len(self.alpha):
            return self
        return LanczosResult(self.alpha[:steps], self.beta[: steps - 1], float(self.beta[steps - 1]))

    def ritz(self) -> tuple[np.ndarray, np.ndarray]:
        """Ritz values, descending, and their residual norms ‖Hy − θy‖ = ‖r‖·|last component
        of T's eigenvector|: by Bauer–Fike an eigenvalue of H lies within that of θ."""
        values, vectors = np.linalg.eigh(self.tridiagonal())
        order = np.argsort(values)[::-1]
        return values[order], self.residual * np.abs(vectors[-1, order])


def lanczos(matvec, v0: np.ndarray, max_steps: int, stop=None) -> LanczosResult:
    """Lanczos tridiagonalisation with full re-orthogonalisation (twice, for float64 safety).

    Stops early on breakdown (an invariant subspace: β ≈ 0) or when ``stop(result so
    far)`` returns True after a step.
    """
    dim = len(v0)
    steps = min(max_steps, dim)
    if steps < 1:
        raise ValueError(f"Lanczos needs at least one step (max_steps {max_steps}, dimension {dim})")
    Q = np.zeros((steps, dim))
    q = v0 / np.linalg.norm(v0)
    alphas, betas = [], []
    for j in range(steps):
        Q[j] = q
        w = matvec(q)
        alphas.append(float(q @ w))
        basis = Q[: j + 1]
        for _ in range(2):
            w = w - basis.T @ (basis @ w)
        b = float(np.linalg.norm(w))
        scale = max(abs(x) for x in alphas + betas) or 1.0
        broke_down = b <= 1e-10 * scale
        result = LanczosResult(np.array(alphas), np.array(betas), 0.0 if broke_down else b)
        if broke_down or j == steps - 1 or (stop is not None and stop(result)):
            return result
        betas.append(b)
        q = w / b


def hessian_lanczos(
    hvp, dim: int, k: int, rng: np.random.Generator, max_iter: int, tol: float, min_steps: int = 0
) -> LanczosResult:
    """One Lanczos run from a Rademacher vector, long enough for the top-k eigenvalues.

    Stops once every one of the top-k Ritz values has a residual ≤ ``tol``·|θ| (so each
    lies within that relative distance of an eigenvalue of H) and at least
    ``min_steps`` steps were taken, or after max(``max_iter``, ``min_steps``) steps.
    ``min_steps`` lets the same run serve as the first run of stochastic Lanczos
    quadrature. Extreme Ritz values converge first: far fewer products than power
    iteration with deflation (PyHessian, arXiv 1912.07145).
    """

    def converged(res):
        if len(res.alpha) < max(k, min_steps):
            return False
        values, residuals = res.ritz()
        return bool(np.all(residuals[:k] <= tol * np.abs(values[:k])))

    return lanczos(hvp, rademacher(rng, dim), max(max_iter, min_steps), stop=converged)


def converged_top(res: LanczosResult, k: int, tol: float) -> tuple[np.ndarray, np.ndarray]:
    """(top-k Ritz values, whether each converged to ``tol``); NaN where the run had fewer values."""
    values, residuals = res.ritz()
    top = np.full(k, np.nan)
    ok = np.zeros(k, bool)
    m = min(k, len(values))
    top[:m] = values[:m]
    ok[:m] = residuals[:m] <= tol * np.abs(values[:m])
    return top, ok


def hessian_trace_exact(params: dict, x: np.ndarray, batch: int = 1024) -> float:
    """tr H of the mean cross-entropy over ``x``, exactly, without any Hessian-vector product.

    For a ReLU network the logits are piecewise linear in every single weight, so each
    diagonal entry of the Hessian equals the Gauss–Newton one, Jᵀ A J, with A = diag(p)
    − ppᵀ the softmax Hessian w.r.t. the logits (it does not depend on the label). For
    layer l with input h_{l−1} and G_l = ∂z/∂a_l (K × h_l), summing over its kernel and
    bias entries gives (‖h_{l−1}‖² + 1) · tr(A G_l G_lᵀ), so

        tr H = (1/N) Σ_n Σ_l (‖h_{l−1,n}‖² + 1) · tr(A_n G_{l,n} G_{l,n}ᵀ)

    in float64, batch by batch.
    """
    Ws = [np.asarray(params[f"W{i}"], np.float64) for i in range(1, depth_of(params) + 1)]
    bs = [np.asarray(params[f"b{i}"], np.float64) for i in range(1, len(Ws) + 1)]
    total = 0.0
    for start in range(0, len(x), batch):
        inputs, pre = [np.asarray(x[start : start + batch], np.float64)], []
        for i, (W, b) in enumerate(zip(Ws, bs)):
            pre.append(inputs[-1] @ W + b)
            if i < len(Ws) - 1:
                inputs.append(np.maximum(pre[-1], 0.0))
        z = pre[-1]
        p = np.exp(z - z.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        G = np.broadcast_to(np.eye(z.shape[1]), (len(z), z.shape[1], z.shape[1]))
        for layer in range(len(Ws) - 1, -1, -1):
            if layer < len(Ws) - 1:
                G = (G @ Ws[layer + 1].T) * (pre[layer] > 0)[:, None, :]
            trace_AGG = np.einsum("nk,nkj->n", p, G**2) - np.sum(np.einsum("nk,nkj->nj", p, G) ** 2, axis=1)
            total += float(np.sum((np.sum(inputs[layer] ** 2, axis=1) + 1.0) * trace_AGG))
    return total / len(x)


def hutchinson_trace(
    hvp, dim: int, rng: np.random.Generator, tol: float, min_vectors: int, max_vectors: int
) -> tuple[float, float, int]:
    """tr(H) ≈ mean of vᵀHv over Rademacher v (Hutchinson 1990; PyHessian).

    Adds vectors until the standard error is below ``tol`` times the mean (after at
    least ``min_vectors``) or ``max_vectors`` are used. Returns (mean, standard error =
    sample std / √m, m). A diagnostic beside ``hessian_trace_exact``.
    """
    samples = []
    for m in range(1, max_vectors + 1):
        v = rademacher(rng, dim)
        samples.append(float(v @ hvp(v)))
        if m >= max(min_vectors, 2):
            s = np.asarray(samples)
            if s.std(ddof=1) / np.sqrt(m) < tol * abs(s.mean()):
                break
    s = np.asarray(samples)
    se = float(s.std(ddof=1) / np.sqrt(len(s))) if len(s) > 1 else float("nan")
    return float(s.mean()), se, len(s)


def slq_density(
    hvp, dim: int, rng: np.random.Generator, runs: int, steps: int, first: LanczosResult | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Stochastic Lanczos quadrature of the Hessian's spectral density (Ghorbani et al. 2019).

    Per run: Lanczos from a normalised Rademacher vector with full re-orthogonalisation;
    nodes = eigenvalues of the tridiagonal T, weights = squared first components of its
    eigenvectors (they sum to 1). ``first``, a run already made from a Rademacher start
    (the top-k eigenvalues' run), serves as run 1. Returns (nodes, weights), each (runs,
    steps); runs that broke down early are padded with nodes NaN and weights 0. The
    density estimate is Σ_runs Σ_k weights/runs · δ(λ − node).
    """
    nodes = np.full((runs, steps), np.nan)
    weights = np.zeros((runs, steps))
    for r in range(runs):
        res = first.leading(steps) if (r == 0 and first is not None) else lanczos(hvp, rademacher(rng, dim), steps)
        evals, evecs = np.linalg.eigh(res.tridiagonal())
        m = len(evals)
        nodes[r, :m] = evals
        weights[r, :m] = evecs[0] ** 2
    return nodes, weights


def sign_ascent(value_and_grad, u0: np.ndarray, steps: int):
    """Projected sign-gradient ascent on the cube [−1, 1]^p: u ← clip(u + η_k sign ∇f(u)),
    η_k = 1/√(k+1) (a first full step to a vertex, then ever finer moves along the faces).
    Returns (best value, its u) over every point evaluated."""
    u = np.clip(u0, -1.0, 1.0)
    best, best_u = -np.inf, u
    for k in range(steps):
        value, g = value_and_grad(u)
        if value > best:
            best, best_u = value, u
        u = np.clip(u + np.sign(g) / np.sqrt(k + 1.0), -1.0, 1.0)
    value, _ = value_and_grad(u)
    return (value, u) if value > best else (best, best_u)


def box_sharpness(
    loss: TrainingLoss,
    theta: np.ndarray,
    bound: np.ndarray,
    rng: np.random.Generator,
    steps: int,
    restarts: int,
    polish_iter: int,
) -> float:
    """max_{|ν_i| ≤ bound_i} [L(θ + ν) − L(θ)] / (1 + L(θ)), maximised in two phases.

    In the box's own coordinates u = ν / bound ∈ [−1, 1]^p: projected sign-gradient ascent
    (``sign_ascent``, ``steps`` steps) from ``restarts`` starts (the gradient's vertex, then
    random vertices), then L-BFGS-B from the best point found. L-BFGS-B alone fails where the
    loss is tiny (at loss0 the gradient's sup-norm is below its default tolerances and every
    start stops at once), so its objective is scaled by the gain already found, which makes
    its tolerances relative to the quantity maximised. ν = 0 is feasible: the result is ≥ 0.
    """
    theta = np.asarray(theta, np.float64)
    base, grad = loss.value_and_grad(theta)

    def gain_and_grad(u):
        value, g = loss.value_and_grad(theta + bound * u)
        return value - base, g * bound

    starts = [np.sign(grad)] + [rng.choice([-1.0, 1.0], size=theta.shape) for _ in range(max(restarts, 1) - 1)]
    best, best_u = 0.0, np.zeros_like(theta)
    for u0 in starts:
        value, u = sign_ascent(gain_and_grad, u0, steps)
        if value > best:
            best, best_u = value, u
    if best > 0 and polish_iter > 0:
        scale = best

        def objective(u):
            value, g = gain_and_grad(u)
            return -value / scale, -g / scale

        best = max(best, -float(lbfgsb_on_cube(objective, best_u, polish_iter, ftol=1e-12, gtol=1e-12)) * scale)
    return best / (1.0 + base)


SETULB_SIGNATURE = "setulb(m,x,l,u,nbd,f,g,factr,pgtol,wa,iwa,task,lsave,isave,dsave,maxls,ln_task)"


def private_setulb():
    """scipy's compiled L-BFGS-B step ``scipy.optimize._lbfgsb.setulb`` when it has the signature
    ``lbfgsb_driver`` was written for, else None (it is private: scipy may change it any release)."""
    try:
        from scipy.optimize import _lbfgsb
    except ImportError:
        return None
    setulb = getattr(_lbfgsb, "setulb", None)
    doc = (getattr(setulb, "__doc__", None) or "").strip()
    return setulb if doc.splitlines()[:1] == [SETULB_SIGNATURE] else None


def lbfgsb_on_cube(
    objective, x0: np.ndarray, maxiter: int, ftol: float, gtol: float, maxcor: int = 10, maxls: int = 20
):
    """The final value of L-BFGS-B minimising ``objective`` (u ↦ (f, ∇f)) over [−1, 1]^p from x0:
    ``lbfgsb_driver`` where scipy's private step has the expected signature, else the public
    ``scipy.optimize.minimize``, which runs the same iterations."""
    run = lbfgsb_driver if private_setulb() is not None else lbfgsb_minimize
    return run(objective, x0, maxiter, ftol, gtol, maxcor, maxls)[0]


def lbfgsb_minimize(objective, x0, maxiter: int, ftol: float, gtol: float, maxcor: int = 10, maxls: int = 20):
    """(final value, final point) of ``scipy.optimize.minimize(method="L-BFGS-B")`` on [−1, 1]^p."""
    from scipy.optimize import Bounds, minimize

    x0 = np.clip(np.array(x0, np.float64), -1.0, 1.0)
    options = dict(maxiter=maxiter, ftol=ftol, gtol=gtol, maxcor=maxcor, maxls=maxls, maxfun=np.iinfo(np.int32).max)
    res = minimize(objective, x0, jac=True, method="L-BFGS-B", bounds=Bounds(-1.0, 1.0), options=options)
    return res.fun, res.x


def lbfgsb_driver(objective, x0, maxiter: int, ftol: float, gtol: float, maxcor: int = 10, maxls: int = 20):
    """(final value, final point) of scipy's own driver loop around its compiled ``setulb``, as
    ``lbfgsb_minimize`` runs it (same iterates, same evaluations, same final value), without
    that function's Python loops over every coordinate's bounds, which cost more than a short
    polish itself at p ≈ 55,000 parameters. ``ftol`` and ``gtol`` are scipy's options."""
    setulb = private_setulb()
    n = int(np.size(x0))
    x = np.clip(np.array(x0, np.float64), -1.0, 1.0)
    lower, upper, both_bounded = np.full(n, -1.0), np.full(n, 1.0), np.full(n, 2, np.int32)
    f, g = np.array(0.0), np.zeros(n)
    wa = np.zeros(2 * maxcor * n + 5 * n + 11 * maxcor * maxcor + 8 * maxcor)
    iwa = np.zeros(3 * n, np.int32)
    task, ln_task, lsave = np.zeros(2, np.int32), np.zeros(2, np.int32), np.zeros(4, np.int32)
    isave, dsave = np.zeros(44, np.int32), np.zeros(29)
    factr = ftol / np.finfo(float).eps
    iterations = 0
    while True:
        setulb(
            maxcor, x, lower, upper, both_bounded, f, g, factr, gtol, wa, iwa, task, lsave, isave, dsave, maxls, ln_task
        )
        if task[0] == 3:  # f and ∇f wanted at x
            f, g = objective(x.copy())
            g = np.asarray(g, np.float64)
        elif task[0] == 1:  # a new iterate
            iterations += 1
            if iterations >= maxiter:
                task[:] = (5, 504)  # stop: the iteration limit
        else:
            return f, x


def sharpness(
    loss: TrainingLoss,
    theta: np.ndarray,
    rng: np.random.Generator,
    alpha: float,
    steps: int,
    restarts: int,
    polish_iter: int = 20,
) -> float:
    """Keskar et al. 2017 sharpness as in Neyshabur et al. 2017 (arXiv 1706.08947):

        max_{|ν_i| ≤ α(|w_i| + 1)} [L(w + ν) − L(w)] / (1 + L(w)),

    over every parameter, maximised by ``box_sharpness``."""
    theta = np.asarray(theta, np.float64)
    return box_sharpness(loss, theta, alpha * (np.abs(theta) + 1.0), rng, steps, restarts, polish_iter)


def magnitude_sharpness(
    loss: TrainingLoss,
    theta: np.ndarray,
    rng: np.random.Generator,
    alpha: float,
    epsilon: float,
    steps: int,
    restarts: int,
    polish_iter: int = 20,
) -> float:
    """Magnitude-aware sharpness (Jiang et al. 2019, §C.4: the perturbation of each parameter
    scales with its magnitude): the same maximum over the box |ν_i| ≤ α(|w_i| + ε), so that a
    rescaling of the weights that leaves the function unchanged moves the box with them."""
    theta = np.asarray(theta, np.float64)
    return box_sharpness(loss, theta, alpha * (np.abs(theta) + epsilon), rng, steps, restarts, polish_iter)


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
