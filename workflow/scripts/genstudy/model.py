"""The network, in one place: a fully connected ReLU MLP of any depth.

Parameters are a dict ``W1 b1 … WL bL`` (``param_names``) with kernels shaped
(fan_in, fan_out), the layout Keras uses, so ``x @ W + b`` is a Dense layer. This
module holds the numpy and the TensorFlow forward pass and loss, the flat parameter
vector, and the exact compaction of idle inputs; nothing else knows the layer count.
TensorFlow is imported only by the functions that need it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .seeds import STREAM_INIT, rng_for
from .study import n_parameters  # noqa: F401  (the network's size, re-exported beside the network)


def param_names(depth: int) -> tuple[str, ...]:
    """``W1 b1 … W{depth} b{depth}``: the order of every parameter list and flat vector."""
    return tuple(f"{kind}{i}" for i in range(1, depth + 1) for kind in ("W", "b"))


def depth_of(params: dict) -> int:
    """Number of Dense layers: the largest L with W1 … WL all present."""
    d = 0
    while f"W{d + 1}" in params:
        d += 1
    return d


def ordered(params: dict) -> list:
    """The parameters as a list in ``param_names`` order."""
    return [params[k] for k in param_names(depth_of(params))]


def layer_sizes(n_inputs: int, hidden, n_classes: int) -> list[int]:
    return [int(n_inputs), *map(int, hidden), int(n_classes)]


def glorot_uniform_init(sizes, seed: int) -> dict[str, np.ndarray]:
    """Keras' default Dense init: kernels U(-a, a), a = sqrt(6 / (fan_in + fan_out)); zero biases."""
    rng = rng_for(seed, STREAM_INIT)
    params = {}
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        params[f"W{i}"] = rng.uniform(-limit, limit, size=(fan_in, fan_out)).astype(np.float32)
        params[f"b{i}"] = np.zeros(fan_out, np.float32)
    return params


def flatten(params: dict) -> np.ndarray:
    """All parameters as one float64 vector θ, in ``param_names`` order."""
    return np.concatenate([np.asarray(p, np.float64).ravel() for p in ordered(params)])


def unflatten(theta: np.ndarray, like: dict) -> dict:
    """The inverse of ``flatten``: θ cut into arrays shaped as in ``like``."""
    out, i = {}, 0
    for k in param_names(depth_of(like)):
        shape = np.shape(like[k])
        size = int(np.prod(shape))
        out[k] = np.asarray(theta[i : i + size]).reshape(shape)
        i += size
    return out


# --- numpy ------------------------------------------------------------------------


def logits(params: dict, x: np.ndarray, dtype=np.float64) -> np.ndarray:
    """f(x): Dense → ReLU → … → Dense, no softmax."""
    h = np.asarray(x, dtype)
    d = depth_of(params)
    for i in range(1, d + 1):
        h = h @ np.asarray(params[f"W{i}"], dtype) + np.asarray(params[f"b{i}"], dtype)
        if i < d:
            h = np.maximum(h, 0.0)
    return h


def cross_entropy(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per-example softmax cross-entropy from logits, as log(1 + Σ_{j≠y} exp(z_j − z_y)).

    Written as softplus(logsumexp of the other classes' logit gaps), which keeps full
    relative precision when the loss is near 1e-5 (1 + 1e-5 would lose digits).
    """
    z = np.asarray(z, np.float64)
    gaps = z - z[np.arange(len(y)), y][:, None]
    gaps[np.arange(len(y)), y] = -np.inf
    m = gaps.max(axis=1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(gaps - m).sum(axis=1))
    return np.logaddexp(0.0, lse)


def accuracy(z: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(np.argmax(z, axis=1) == y))


# --- TensorFlow -------------------------------------------------------------------


def tf_logits(weights: list, x, first_layer_offset=None):
    """f(x) in TensorFlow from the list ``W1, b1, …`` (tensors or variables).

    ``first_layer_offset`` is added to the first pre-activation: the fixed contribution
    of inputs that ``InputCompaction`` left out of ``x`` and ``W1``.
    """
    import tensorflow as tf

    h = x
    d = len(weights) // 2
    for i in range(d):
        h = tf.matmul(h, weights[2 * i]) + weights[2 * i + 1]
        if i == 0 and first_layer_offset is not None:
            h = h + first_layer_offset
        if i < d - 1:
            h = tf.nn.relu(h)
    return h


def tf_cross_entropy(z, y_onehot):
    """Per-example CE = softplus(logsumexp_{j≠y}(z_j − z_y)), as ``cross_entropy``."""
    import tensorflow as tf

    z_y = tf.reduce_sum(z * y_onehot, axis=1, keepdims=True)
    gaps = z - z_y - y_onehot * tf.constant(1e30, z.dtype)
    return tf.nn.softplus(tf.reduce_logsumexp(gaps, axis=1))


def tf_unflatten(theta, shapes):
    """A flat TF vector cut into tensors of ``shapes`` (the TF twin of ``unflatten``)."""
    import tensorflow as tf

    parts = tf.split(theta, [int(np.prod(s)) for s in shapes])
    return [tf.reshape(p, s) for p, s in zip(parts, shapes)]


# --- exact compaction of idle inputs ----------------------------------------------


@dataclass(frozen=True)
class InputCompaction:
    """Leaves out the input features that are zero in every training example, exactly.

    Why it is exact: such a feature never reaches the data loss, so its row of W1 has
    a gradient of exactly 0 and every Hessian entry involving it is 0; Adam started
    with zero moments in that row keeps them at 0 and never moves the row. The
    preconditions, checked where the compaction is built: nothing but the data loss
    touches W1 (no weight decay, no noise on the weights), and an optimiser state
    carried in from elsewhere keeps every row with nonzero moments active (``keep``).
    Checkpoints always hold the full matrices; ``expand`` puts the rows back.
    """

    active: np.ndarray  # indices of the kept input features, ascending
    n_inputs: int

    @classmethod
    def from_inputs(cls, x: np.ndarray, keep: np.ndarray | None = None) -> InputCompaction:
        used = np.any(np.asarray(x) != 0, axis=0)
        if keep is not None:
            used = used | np.asarray(keep, bool)
        return cls(np.flatnonzero(used), int(np.shape(x)[1]))

    @property
    def idle(self) -> np.ndarray:
        return np.setdiff1d(np.arange(self.n_inputs), self.active)

    def inputs(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(x)[:, self.active]

    def compact(self, params: dict) -> dict:
        return {**params, "W1": np.asarray(params["W1"])[self.active]}

    def expand(self, params: dict, fill_W1: np.ndarray) -> dict:
        """Full parameters: the kept W1 rows from ``params``, the idle ones from ``fill_W1``."""
        W1 = np.array(fill_W1, dtype=np.asarray(params["W1"]).dtype, copy=True)
        W1[self.active] = params["W1"]
        return {**params, "W1": W1}

    def idle_offset(self, x: np.ndarray, W1: np.ndarray) -> np.ndarray:
        """x[:, idle] @ W1[idle]: what the left-out features add to the first pre-activation."""
        idle = self.idle
        return np.asarray(x)[:, idle] @ np.asarray(W1)[idle]

    def flat_mask(self, like: dict) -> np.ndarray:
        """Which entries of ``flatten(params)`` survive ``compact``."""
        rows = np.zeros(self.n_inputs, bool)
        rows[self.active] = True
        parts = [np.repeat(rows, np.shape(like["W1"])[1])]
        parts += [np.ones(int(np.prod(np.shape(like[k]))), bool) for k in param_names(depth_of(like))[1:]]
        return np.concatenate(parts)
