"""The MLP in numpy: initialisation, logits, loss. No TensorFlow here.

Parameters are a dict W1 b1 W2 b2 W3 b3 with kernels shaped (fan_in, fan_out), the
layout Keras uses, so ``x @ W + b`` is a Dense layer.
"""
from __future__ import annotations

import numpy as np

from .data import STREAM_INIT, rng_for


def layer_sizes(n_inputs: int, hidden, n_classes: int = 10) -> list[int]:
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


def n_layers(params: dict) -> int:
    return sum(1 for k in params if k.startswith("W"))


def logits(params: dict, x: np.ndarray, dtype=np.float64) -> np.ndarray:
    """f(x): Dense → ReLU → … → Dense, no softmax."""
    h = np.asarray(x, dtype)
    d = n_layers(params)
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
