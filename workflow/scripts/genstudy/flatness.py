"""PAC-Bayes flatness (Jiang et al. 2019, arXiv 1912.02178, §C), in numpy (forward passes only).

Both measures search the noise scale at which perturbing every parameter costs a
given drop of training accuracy; they differ only in the noise's standard deviation,
declared in ``NOISE``.
"""

from __future__ import annotations

import numpy as np

from .model import InputCompaction, accuracy, logits


def isotropic_std(w: np.ndarray, sigma: float, epsilon: float) -> np.ndarray:
    """N(0, σ²) for every parameter: ``pacbayes_flatness``."""
    return np.full(w.shape, sigma)


def magnitude_aware_std(w: np.ndarray, sigma: float, epsilon: float) -> np.ndarray:
    """N(0, σ'² w_i² + ε²), noise that scales with each weight: ``pacbayes_mag_flatness``."""
    return np.sqrt(sigma**2 * w**2 + epsilon**2)


NOISE = {"isotropic": isotropic_std, "magnitude_aware": magnitude_aware_std}
SIGMA_UPPER = 2.0  # the search's upper end; a σ this large means "no noise scale costs the target drop"


def perturb(params: dict, std, sigma: float, epsilon: float, rng: np.random.Generator) -> dict:
    """w + N(0, std(w)²) for every parameter, drawn in a fixed order."""
    out = {}
    for k in sorted(params):
        w = np.asarray(params[k], np.float64)
        out[k] = w + std(w, sigma, epsilon) * rng.standard_normal(w.shape)
    return out


def pacbayes_sigma(
    params: dict,
    x: np.ndarray,
    y: np.ndarray,
    rng: np.random.Generator,
    *,
    target_drop: float,
    draws: int,
    halvings: int,
    epsilon: float,
    noise: str,
) -> float:
    """σ of the PAC-Bayes flatness measures (Jiang et al. 2019, §C).

    Binary search on [0, SIGMA_UPPER] for the σ at which perturbing every parameter with
    ``NOISE[noise]`` lowers the training accuracy by more than ``target_drop`` on average
    over ``draws`` draws; returns the midpoint of the last bracket. The reported measure is
    1/σ² (large means sharp). σ = SIGMA_UPPER (1 − 2^-(halvings+1)) means that even
    that much noise does not cost ``target_drop``.
    """
    std = NOISE[noise]
    # Inputs that are zero in every example see no weight, perturbed or not: leave them out.
    compaction = InputCompaction.from_inputs(x)
    params, x = compaction.compact(params), compaction.inputs(x)
    base = accuracy(logits(params, x), y)
    lo, hi = 0.0, SIGMA_UPPER
    for _ in range(halvings):
        mid = 0.5 * (lo + hi)
        # float32 suffices for an accuracy (an argmax) and halves the cost of the draws' forward passes
        accs = [accuracy(logits(perturb(params, std, mid, epsilon, rng), x, np.float32), y) for _ in range(draws)]
        if base - float(np.mean(accs)) > target_drop:
            hi = mid
        else:
            lo = mid
    return 0.5 * (lo + hi)


# --- the PAC-Bayes bounds of the σ found above (Jiang et al. 2019, eq. 48–49 and 56–57). w is
# every parameter (weights and biases) as one vector, w0 its initial value, m the
# training-set size; the constant 10 stands for Jiang et al.'s log(1/δ) and rounding terms.


def pacbayes_bound(w: np.ndarray, w0: np.ndarray, sigma: float, m: int) -> float:
    """‖w − w0‖² / (4σ²) + log(m/σ) + 10: ``pacbayes_init`` with w0 the initial weights,
    ``pacbayes_orig`` with w0 = 0."""
    return float(np.sum((w - w0) ** 2) / (4.0 * sigma**2) + np.log(m / sigma) + 10.0)


def pacbayes_mag_bound(w: np.ndarray, w0: np.ndarray, sigma: float, epsilon: float, m: int) -> float:
    """¼ Σ_i log[(ε² + (σ'² + 1) ‖w − w0‖² / p) / (ε² + σ'² (w_i − w0_i)²)] + log(m/σ') + 10, p the
    number of parameters: ``pacbayes_mag_init`` (w0 the initial weights) and
    ``pacbayes_mag_orig`` (w0 = 0), the KL of the magnitude-aware posterior of σ'."""
    diff = w - w0
    prior = epsilon**2 + (sigma**2 + 1.0) * np.sum(diff**2) / diff.size
    return float(0.25 * np.sum(np.log(prior / (epsilon**2 + sigma**2 * diff**2))) + np.log(m / sigma) + 10.0)
