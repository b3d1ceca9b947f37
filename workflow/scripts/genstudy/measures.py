"""All complexity measures of one checkpoint, as one flat record (the measures table's columns)."""
from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np

from .curvature import (TrainingLoss, hessian_top_eigenvalues, hutchinson_trace, jacobian_frobenius, sharpness,
                        slq_density)
from .flatness import pacbayes_sigma
from .model import flatten
from .norms import (distance_to_init, frobenius_norms, l1_path_over_margin, l2_over_margin,
                    l2_path_over_margin, l2_seed, margin_gamma, spectral_norms, spectral_over_margin)
from .seeds import STREAM_EIG, STREAM_FLAT, STREAM_SHARP, STREAM_SLQ, STREAM_TRACE, rng_for


@dataclass(frozen=True)
class MeasureSettings:
    """Settings of every estimator; the defaults are the config schema's (a test checks they agree)."""
    seed: int = 0
    margin_percentile: float = 5
    top_k: int = 5
    lanczos_max_iter: int = 100
    eig_tol: float = 1.0e-3
    trace_tol: float = 1.0e-3
    trace_min_vectors: int = 10
    trace_max_vectors: int = 200
    slq_runs: int = 2
    slq_steps: int = 60
    sharpness_alpha: float = 5.0e-4
    sharpness_steps: int = 20
    sharpness_restarts: int = 3
    flatness_draws: int = 10
    flatness_halvings: int = 15
    flatness_target_drop: float = 0.1
    flatness_epsilon: float = 1.0e-3
    jacobian_points: int = 1000

    @classmethod
    def from_config(cls, section: dict | None) -> "MeasureSettings":
        types = {f.name: {"int": int, "float": float}[f.type] for f in fields(cls)}
        unknown = sorted(set(section or {}) - set(types))
        if unknown:
            raise ValueError(f"measures: unknown settings {unknown}")
        return cls(**{k: types[k](v) for k, v in (section or {}).items()})


def measure_columns(top_k: int, depth: int) -> list[str]:
    layers = range(1, depth + 1)
    return (["l2_seed"] + [f"fro_{i}" for i in layers] + [f"spec_{i}" for i in layers]
            + ["margin", "l2_margin", "spec_margin", "l1_path_margin", "l2_path_margin", "dist_init"]
            + [f"hessian_eig_{i}" for i in range(1, top_k + 1)]
            + ["hessian_trace", "hessian_trace_se", "sharpness", "pacbayes_flatness", "jacobian_fro"])


def norm_measures(params, params0, x, y, percentile: float) -> tuple[dict, list[str]]:
    rec, notes = {"l2_seed": l2_seed(params)}, []
    for i, v in enumerate(frobenius_norms(params), start=1):
        rec[f"fro_{i}"] = v
    for i, v in enumerate(spectral_norms(params), start=1):
        rec[f"spec_{i}"] = v
    gamma = margin_gamma(params, x, y, percentile)
    rec["margin"] = gamma
    if gamma > 0:
        rec["l2_margin"] = l2_over_margin(params, gamma)
        rec["spec_margin"] = spectral_over_margin(params, gamma)
        rec["l1_path_margin"] = l1_path_over_margin(params, gamma)
        rec["l2_path_margin"] = l2_path_over_margin(params, gamma)
    else:
        rec.update(l2_margin=None, spec_margin=None, l1_path_margin=None, l2_path_margin=None)
        notes.append(f"margin γ = {gamma:.4g} ≤ 0 (the {percentile}th percentile of training margins): "
                     "measures over margin are undefined and left empty")
    rec["dist_init"] = distance_to_init(params, params0)
    return rec, notes


def checkpoint_measures(params: dict, params0: dict, x, y, x_test, settings: dict, threads: int = 1,
                        loss: TrainingLoss | None = None):
    """(record, notes, diagnostics, (nodes, weights)) for one checkpoint's weights.

    ``x, y``: the training subset and the labels trained on; ``x_test``: points for the
    input-output Jacobian. Every estimator is seeded from ``settings['seed']``. Pass the
    ``loss`` of the same subset to reuse its compiled functions across checkpoints.
    """
    s = settings if isinstance(settings, MeasureSettings) else MeasureSettings.from_config(settings)
    seed = s.seed
    rec, notes = norm_measures(params, params0, x, y, s.margin_percentile)
    if loss is None:
        loss = TrainingLoss(params, x, y, threads=threads)
    theta = flatten(params)

    def hvp(v):
        return loss.hvp(theta, v)

    top, n_eig = hessian_top_eigenvalues(hvp, loss.dim, s.top_k, rng_for(seed, STREAM_EIG),
                                         s.lanczos_max_iter, s.eig_tol)
    for i, v in enumerate(top, start=1):
        rec[f"hessian_eig_{i}"] = None if not math.isfinite(v) else float(v)
    tr, se, n_tr = hutchinson_trace(hvp, loss.dim, rng_for(seed, STREAM_TRACE), s.trace_tol,
                                    s.trace_min_vectors, s.trace_max_vectors)
    rec["hessian_trace"], rec["hessian_trace_se"] = tr, se
    nodes, weights = slq_density(hvp, loss.dim, rng_for(seed, STREAM_SLQ), s.slq_runs, s.slq_steps)
    rec["sharpness"] = sharpness(loss, theta, rng_for(seed, STREAM_SHARP), s.sharpness_alpha,
                                 s.sharpness_steps, s.sharpness_restarts)
    sigma = pacbayes_sigma(params, x, y, rng_for(seed, STREAM_FLAT), s.flatness_target_drop,
                           s.flatness_draws, s.flatness_halvings, s.flatness_epsilon)
    rec["pacbayes_flatness"] = 1.0 / sigma**2 if sigma > 0 else None
    if sigma >= 2.0 * (1 - 2.0 ** -s.flatness_halvings):
        notes.append("pacbayes_flatness: σ' reached the search's upper bound 2; the value is a lower bound on flatness")
    if sigma <= 0:
        notes.append("pacbayes_flatness: σ' collapsed to 0 (any noise costs the target accuracy drop)")
    rec["jacobian_fro"] = jacobian_frobenius(params, np.asarray(x_test)[: s.jacobian_points], threads)
    diagnostics = {"training_loss_float64": loss.value(theta), "lanczos_steps_top_k": n_eig,
                   "hutchinson_vectors": n_tr, "pacbayes_sigma": sigma, "n_parameters": loss.dim}
    return rec, notes, diagnostics, (nodes, weights)
