"""PAC-Bayes flatness, in numpy (forward passes only)."""
from __future__ import annotations

import numpy as np

from .model import accuracy, logits


def perturb_magnitude_aware(params: dict, sigma: float, epsilon: float, rng: np.random.Generator) -> dict:
    """w_i + N(0, σ² w_i² + ε²) for every parameter, drawn in a fixed order."""
    out = {}
    for k in sorted(params):
        w = np.asarray(params[k], np.float64)
        out[k] = w + np.sqrt(sigma**2 * w**2 + epsilon**2) * rng.standard_normal(w.shape)
    return out


def pacbayes_sigma(params: dict, x: np.ndarray, y: np.ndarray, rng: np.random.Generator,
                   target_drop: float = 0.1, draws: int = 10, halvings: int = 15,
                   epsilon: float = 1e-3, upper: float = 2.0) -> float:
    """σ' of the magnitude-aware PAC-Bayes flatness (Jiang et al. 2019, arXiv 1912.02178, §C).

    Binary search on [0, upper] for the σ' at which perturbing every parameter with
    N(0, σ'² w_i² + ε²) lowers the training accuracy by ``target_drop`` on average over
    ``draws`` draws. The reported measure is 1/σ'² (``pacbayes_flatness``): large means sharp.
    Returns ``upper`` if even that much noise does not cost ``target_drop``.
    """
    base = accuracy(logits(params, x), y)
    lo, hi = 0.0, float(upper)
    for _ in range(halvings):
        mid = 0.5 * (lo + hi)
        accs = [accuracy(logits(perturb_magnitude_aware(params, mid, epsilon, rng), x), y) for _ in range(draws)]
        if base - float(np.mean(accs)) > target_drop:
            hi = mid
        else:
            lo = mid
    return 0.5 * (lo + hi)
