"""Norm-based complexity measures, in numpy (no TensorFlow needed).

d = number of layers, W_i the kernel of layer i with shape (fan_in, fan_out),
h_i = fan_out of layer i (its number of units), f(x) the logits. Formulas follow
Neyshabur, Bhojanapalli, McAllester & Srebro 2017, "Exploring generalization in deep
learning" (arXiv 1706.08947), Table/Section 2; γ is a low percentile of the training
margins (5th there; Jiang et al. 2019, arXiv 1912.02178, use the 10th).
"""
from __future__ import annotations

import numpy as np

from .model import logits


def _kernels(params: dict) -> list[np.ndarray]:
    d = sum(1 for k in params if k.startswith("W"))
    return [np.asarray(params[f"W{i}"], np.float64) for i in range(1, d + 1)]


def frobenius_norms(params: dict) -> list[float]:
    """‖W_i‖_F for each kernel (biases excluded)."""
    return [float(np.linalg.norm(W)) for W in _kernels(params)]  # a matrix's default norm: Frobenius


def spectral_norms(params: dict) -> list[float]:
    """‖W_i‖_2 = largest singular value of each kernel."""
    return [float(np.linalg.norm(W, 2)) for W in _kernels(params)]


def l2_seed(params: dict) -> float:
    """The original repo's "L2": 4 · ∏_i ‖W_i‖_F² (kernels only, no margin)."""
    return 4.0 * float(np.prod([f**2 for f in frobenius_norms(params)]))


def margins(params: dict, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """f(x)[y] − max_{j≠y} f(x)[j] per example, with y the labels trained on."""
    z = logits(params, x)
    idx = np.arange(len(y))
    true = z[idx, y]
    others = z.copy()
    others[idx, y] = -np.inf
    return true - others.max(axis=1)


def margin_gamma(params: dict, x: np.ndarray, y: np.ndarray, percentile: float) -> float:
    """γ: the ``percentile``-th percentile (numpy's linear interpolation) of the training margins."""
    return float(np.percentile(margins(params, x, y), percentile))


def l2_over_margin(params: dict, gamma: float) -> float:
    """Neyshabur's ℓ2 norm measure: (1/γ²) ∏_i 4 ‖W_i‖_F²."""
    return float(np.prod([4.0 * f**2 for f in frobenius_norms(params)])) / gamma**2


def spectral_over_margin(params: dict, gamma: float) -> float:
    """Spectral measure: (1/γ²) ∏_i h_i ‖W_i‖_2², h_i = units of layer i (fan_out of W_i)."""
    Ws = _kernels(params)
    return float(np.prod([W.shape[1] * s**2 for W, s in zip(Ws, spectral_norms(params))])) / gamma**2


def l2_path_over_margin(params: dict, gamma: float) -> float:
    """ℓ2-path: (1/γ²) Σ_paths ∏_i 4 h_i W_i[j_{i-1}, j_i]².

    The sum over all input→output paths of a product of per-edge factors is one
    forward pass of the factor matrices (no ReLU, no bias) on an all-ones input.
    """
    v = None
    for W in _kernels(params):
        factor = 4.0 * W.shape[1] * W**2
        v = factor.sum(axis=0) if v is None else v @ factor
    return float(v.sum()) / gamma**2


def l1_path_over_margin(params: dict, gamma: float) -> float:
    """ℓ1-path: (1/γ²) (Σ_paths ∏_i 2 |W_i[j_{i-1}, j_i]|)² (Neyshabur et al. 2017)."""
    v = None
    for W in _kernels(params):
        factor = 2.0 * np.abs(W)
        v = factor.sum(axis=0) if v is None else v @ factor
    return float(v.sum()) ** 2 / gamma**2


def distance_to_init(params: dict, params0: dict) -> float:
    """‖w − w0‖_2 over all parameters, weights and biases."""
    return float(np.sqrt(sum(np.sum((np.asarray(params[k], np.float64) - params0[k]) ** 2)
                             for k in params0 if k in params)))
