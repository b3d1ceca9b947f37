"""Optimisation-based measures and the output entropy (Jiang et al. 2019, arXiv 1912.02178, §C.5–C.6),
in numpy.

The step counts come from a run's history (exact training loss after every epoch), so
they are per run, the same at every checkpoint of it; the gradient noise and the output
entropy are of the checkpoint's weights on the training subset.
"""

from __future__ import annotations

import numpy as np

from .model import depth_of, logits

STEP_LEVELS = (0.1, 0.01)  # cross-entropy levels of Jiang et al.'s step counts


def first_epoch_at(history: np.ndarray, level: float) -> int | None:
    """The first epoch (history row, column 0) whose training loss (column 1) is ≤ ``level``."""
    hit = np.flatnonzero(np.asarray(history)[1:, 1] <= level)
    return int(history[1 + hit[0], 0]) if len(hit) else None


def optimisation_steps(history: np.ndarray, batches_per_epoch: int) -> dict:
    """``steps_to_ce01``: optimiser steps until the training cross-entropy is ≤ 0.1;
    ``steps_ce01_to_ce001``: steps from there until it is ≤ 0.01 (Jiang et al. 2019, App. C).
    None where the level was never reached."""
    first, second = (first_epoch_at(history, level) for level in STEP_LEVELS)
    return {
        "steps_to_ce01": None if first is None else first * batches_per_epoch,
        "steps_ce01_to_ce001": None if first is None or second is None else (second - first) * batches_per_epoch,
    }


def loss_gradient(params: dict, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """∇ of the mean softmax cross-entropy over (x, y), by backpropagation in float64, as one
    vector in ``model.flatten`` order (W1 b1 … Wd bd)."""
    d = depth_of(params)
    Ws = [np.asarray(params[f"W{i}"], np.float64) for i in range(1, d + 1)]
    bs = [np.asarray(params[f"b{i}"], np.float64) for i in range(1, d + 1)]
    acts, pre = [np.asarray(x, np.float64)], []
    for i in range(d):
        pre.append(acts[-1] @ Ws[i] + bs[i])
        if i < d - 1:
            acts.append(np.maximum(pre[-1], 0.0))
    z = pre[-1]
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    delta = p
    delta[np.arange(len(y)), np.asarray(y)] -= 1.0
    delta /= len(y)
    grads = []
    for i in range(d - 1, -1, -1):
        grads = [acts[i].T @ delta, delta.sum(axis=0)] + grads
        if i:
            delta = (delta @ Ws[i].T) * (pre[i - 1] > 0)
    return np.concatenate([g.ravel() for g in grads])


def gradient_noise(
    params: dict, x: np.ndarray, y: np.ndarray, batch_size: int, rng: np.random.Generator
) -> float | None:
    """The variance of mini-batch gradients at the checkpoint (Jiang et al. 2019, App. C): the
    training subset in one shuffled order is cut into the run's mini-batches of
    ``batch_size`` (the last one partial, as in training), and the result is the mean over
    the mini-batches of ‖g_b − g‖², g the full-subset gradient. None when the subset is one
    mini-batch: every step then sees the full gradient, and there is no noise to measure (what
    the arithmetic leaves is rounding)."""
    if len(x) <= batch_size:
        return None
    full = loss_gradient(params, x, y)
    order = rng.permutation(len(x))
    batches = [order[i : i + batch_size] for i in range(0, len(x), batch_size)]
    return float(np.mean([np.sum((loss_gradient(params, x[b], np.asarray(y)[b]) - full) ** 2) for b in batches]))


def output_entropy(params: dict, x: np.ndarray) -> float:
    """Mean over the training subset of the entropy −Σ_k p_k log p_k of the softmax output
    (Jiang et al. §C.6): how unsure the network is of its own predictions."""
    z = logits(params, x)
    z = z - z.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return float(-np.mean(np.sum(np.exp(log_p) * log_p, axis=1)))
