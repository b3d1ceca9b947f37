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
    return float(
        np.sqrt(sum(np.sum((np.asarray(params[k], np.float64) - params0[k]) ** 2) for k in params0 if k in params))
    )


# --- Jiang et al. 2019 (arXiv 1912.02178, Appendix C): norm measures without the 4^d or
# h_i factors, so that they compare across depth and width. d = number of kernels.


def _kernel_differences(params: dict, params0: dict) -> list[np.ndarray]:
    return [W - W0 for W, W0 in zip(_kernels(params), _kernels(params0))]


def prod_of_spec(params: dict) -> float:
    """∏_i ‖W_i‖_2² (Jiang et al. eq. 32; eq. 31 is it over the margin)."""
    return float(np.prod([s**2 for s in spectral_norms(params)]))


def sum_of_spec(params: dict) -> float:
    """d (∏_i ‖W_i‖_2²)^{1/d} (Jiang et al. eq. 35; eq. 34 is it over the margin)."""
    d = len(_kernels(params))
    return d * prod_of_spec(params) ** (1.0 / d)


def prod_of_fro(params: dict) -> float:
    """∏_i ‖W_i‖_F² (Jiang et al. eq. 37; eq. 36 is it over the margin)."""
    return float(np.prod([f**2 for f in frobenius_norms(params)]))


def sum_of_fro(params: dict) -> float:
    """d (∏_i ‖W_i‖_F²)^{1/d} (Jiang et al. eq. 39; eq. 38 is it over the margin)."""
    d = len(_kernels(params))
    return d * prod_of_fro(params) ** (1.0 / d)


def fro_over_spec(params: dict) -> float:
    """Σ_i ‖W_i‖_F² / ‖W_i‖_2², the sum of the layers' stable ranks (Jiang et al. eq. 33)."""
    return float(sum(f**2 / s**2 for f, s in zip(frobenius_norms(params), spectral_norms(params))))


def spec_init(params: dict, params0: dict) -> float:
    """Bartlett et al. 2017 (arXiv 1706.08498) as Jiang et al. eq. 29 compute it, without the margin:
    ∏_i ‖W_i‖_2² · Σ_j ‖W_j − W_j⁰‖_F² / ‖W_j‖_2²."""
    ratio = sum(
        float(np.sum(D**2)) / s**2 for D, s in zip(_kernel_differences(params, params0), spectral_norms(params))
    )
    return prod_of_spec(params) * ratio


def spec_orig(params: dict) -> float:
    """Jiang et al. eq. 30, without the margin: ∏_i ‖W_i‖_2² · Σ_j ‖W_j‖_F² / ‖W_j‖_2²."""
    return prod_of_spec(params) * fro_over_spec(params)


def fro_dist(params: dict, params0: dict) -> float:
    """Σ_i ‖W_i − W_i⁰‖_F², kernels only (Jiang et al. eq. 40)."""
    return float(sum(np.sum(D**2) for D in _kernel_differences(params, params0)))


def dist_spec_init(params: dict, params0: dict) -> float:
    """Σ_i ‖W_i − W_i⁰‖_2², kernels only (Jiang et al. eq. 41)."""
    return float(sum(np.linalg.norm(D, 2) ** 2 for D in _kernel_differences(params, params0)))


def param_norm(params: dict) -> float:
    """Σ_i ‖W_i‖_F², kernels only (Jiang et al. eq. 42)."""
    return float(sum(f**2 for f in frobenius_norms(params)))


def path_norm(params: dict) -> float:
    """Σ_j f_{w²}(1)[j]: the network with every parameter squared, biases included, on an
    all-ones input (Jiang et al. eq. 44, after Neyshabur et al. 2015). With non-negative
    weights and biases the ReLUs are the identity."""
    d = len(_kernels(params))
    v = np.ones(np.shape(params["W1"])[0])
    for i in range(1, d + 1):
        v = v @ np.asarray(params[f"W{i}"], np.float64) ** 2 + np.asarray(params[f"b{i}"], np.float64) ** 2
    return float(v.sum())
