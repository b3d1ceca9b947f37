"""All complexity measures of one checkpoint, as one flat record (the measures table's columns).

The measures come in groups, one function each, run in the order of ``GROUPS``; each
takes the checkpoint's ``Context`` and returns its part of the record and its notes.
Every key a group writes is declared in ``registry.MEASURES`` (``check_record``).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, fields

import numpy as np

from . import norms
from .curvature import (
    TrainingLoss,
    converged_top,
    hessian_lanczos,
    hessian_trace_exact,
    hutchinson_trace,
    jacobian_frobenius,
    magnitude_sharpness,
    sharpness,
    slq_density,
)
from .flatness import SIGMA_UPPER, pacbayes_bound, pacbayes_mag_bound, pacbayes_sigma
from .model import flatten
from .norms import (
    distance_to_init,
    frobenius_norms,
    l1_path_over_margin,
    l2_over_margin,
    l2_path_over_margin,
    l2_seed,
    margin_gamma,
    spectral_norms,
    spectral_over_margin,
)
from .optimisation import gradient_noise, optimisation_steps, output_entropy
from .registry import check_record
from .seeds import STREAM_EIG, STREAM_FLAT, STREAM_GRAD_NOISE, STREAM_SHARP, STREAM_SLQ, STREAM_TRACE, rng_for


@dataclass(frozen=True)
class MeasureSettings:
    """Settings of every estimator: the config's ``measures`` section. The defaults live in the
    schema only (``from_config`` fills what a section leaves out from there)."""

    seed: int
    margin_percentile: float
    top_k: int
    lanczos_max_iter: int
    eig_tol: float
    trace_tol: float
    trace_min_vectors: int
    trace_max_vectors: int
    slq_runs: int
    slq_steps: int
    sharpness_alpha: float
    sharpness_steps: int
    sharpness_restarts: int
    sharpness_polish_iter: int
    flatness_draws: int
    flatness_halvings: int
    flatness_target_drop: float
    flatness_epsilon: float
    jacobian_points: int

    @classmethod
    def from_config(cls, section: dict | None = None) -> MeasureSettings:
        types = {f.name: {"int": int, "float": float}[f.type] for f in fields(cls)}
        unknown = sorted(set(section or {}) - set(types))
        if unknown:
            raise ValueError(f"measures: unknown settings {unknown}")
        if set(section or {}) != set(types):
            from .config import schema_defaults

            section = {**schema_defaults("measures"), **(section or {})}
        return cls(**{k: types[k](v) for k, v in section.items()})


@dataclass(frozen=True)
class RunInfo:
    """What a checkpoint's measures need of its run: the per-epoch history (rows of
    ``contract.HISTORY_COLUMNS``), optimiser steps per epoch, and the mini-batch size."""

    history: np.ndarray
    batches_per_epoch: int
    batch_size: int


@dataclass
class Context:
    """One checkpoint: its weights, the initial ones, the subset (labels trained on), test
    points, the settings, the compiled loss of the subset (shared across checkpoints) and
    the run it belongs to (None: the measures that need it are left empty)."""

    params: dict
    params0: dict
    x: np.ndarray
    y: np.ndarray
    x_test: np.ndarray
    s: MeasureSettings
    loss: TrainingLoss
    threads: int = 1
    run: RunInfo | None = None
    theta: np.ndarray = field(init=False)
    density: tuple = field(init=False, default=None)  # SLQ (nodes, weights), set by curvature_measures

    def __post_init__(self):
        self.theta = flatten(self.params)
        self._hvp = None

    def rng(self, stream: int) -> np.random.Generator:
        return rng_for(self.s.seed, stream)

    def hvp(self, v):
        if self._hvp is None:
            self._hvp = self.loss.hvp_at(self.theta)
        return self._hvp(v)


# Margin-free norms of Jiang et al. 2019: name -> function of (weights, initial weights).
JIANG_NORMS = {
    "prod_of_spec": lambda p, p0: norms.prod_of_spec(p),
    "sum_of_spec": lambda p, p0: norms.sum_of_spec(p),
    "fro_over_spec": lambda p, p0: norms.fro_over_spec(p),
    "prod_of_fro": lambda p, p0: norms.prod_of_fro(p),
    "sum_of_fro": lambda p, p0: norms.sum_of_fro(p),
    "fro_dist": norms.fro_dist,
    "param_norm": lambda p, p0: norms.param_norm(p),
    "dist_spec_init": norms.dist_spec_init,
    "path_norm": lambda p, p0: norms.path_norm(p),
}
# The same over the margin γ: name -> function of (weights, initial weights, γ). A product over
# layers takes 1/γ² once; the sums' d-th roots take it inside, as Jiang et al.'s eq. 34 and 38 do.
JIANG_MARGIN_NORMS = {
    "spec_init": lambda p, p0, g: norms.spec_init(p, p0) / g**2,
    "spec_orig": lambda p, p0, g: norms.spec_orig(p) / g**2,
    "prod_of_spec_margin": lambda p, p0, g: norms.prod_of_spec(p) / g**2,
    "sum_of_spec_margin": lambda p, p0, g: norms.sum_of_spec(p) / g ** (2.0 / len(frobenius_norms(p))),
    "fro_over_spec_margin": lambda p, p0, g: norms.fro_over_spec(p) / g**2,
    "prod_of_fro_margin": lambda p, p0, g: norms.prod_of_fro(p) / g**2,
    "sum_of_fro_margin": lambda p, p0, g: norms.sum_of_fro(p) / g ** (2.0 / len(frobenius_norms(p))),
}


def norm_measures(c: Context):
    rec = {"l2_seed": l2_seed(c.params), "dist_init": distance_to_init(c.params, c.params0)}
    rec.update({name: f(c.params, c.params0) for name, f in JIANG_NORMS.items()})
    rec.update({f"fro_{i}": v for i, v in enumerate(frobenius_norms(c.params), start=1)})
    rec.update({f"spec_{i}": v for i, v in enumerate(spectral_norms(c.params), start=1)})
    return rec, []


def margin_measures(c: Context):
    """Measures over the margin γ; undefined (empty, with a note) when γ ≤ 0."""
    gamma = margin_gamma(c.params, c.x, c.y, c.s.margin_percentile)
    names = ("inverse_margin", "l2_margin", "spec_margin", "l1_path_margin", "l2_path_margin", *JIANG_MARGIN_NORMS)
    if gamma <= 0:
        note = (
            f"margin γ = {gamma:.4g} ≤ 0 (the {c.s.margin_percentile:g}th percentile of training margins): "
            "measures over margin are undefined and left empty"
        )
        return {"margin": gamma, **dict.fromkeys(names)}, [note]
    values = (
        1.0 / gamma**2,
        l2_over_margin(c.params, gamma),
        spectral_over_margin(c.params, gamma),
        l1_path_over_margin(c.params, gamma),
        l2_path_over_margin(c.params, gamma),
        *(f(c.params, c.params0, gamma) for f in JIANG_MARGIN_NORMS.values()),
    )
    return {"margin": gamma, **dict(zip(names, values))}, []


def curvature_measures(c: Context):
    """Top-k eigenvalues (only converged ones), the exact trace, Hutchinson's estimate beside
    it, and the spectral density (returned as ``density``)."""
    s = c.s
    run = hessian_lanczos(c.hvp, c.loss.dim, s.top_k, c.rng(STREAM_EIG), s.lanczos_max_iter, s.eig_tol, s.slq_steps)
    top, ok = converged_top(run, s.top_k, s.eig_tol)
    rec = {f"hessian_eig_{i}": float(v) if good else None for i, (v, good) in enumerate(zip(top, ok), start=1)}
    rec["hessian_eig_steps"] = len(run.alpha)
    notes = (
        []
        if ok.all()
        else [
            f"hessian_eig_{', '.join(str(i + 1) for i in np.flatnonzero(~ok))}: not converged to eig_tol = {s.eig_tol:g} "
            f"(residual-based) in {len(run.alpha)} Lanczos steps; left empty (raise measures.lanczos_max_iter)"
        ]
    )
    rec["hessian_trace"] = hessian_trace_exact(c.params, c.x)
    tr, se, m = hutchinson_trace(
        c.hvp, c.loss.dim, c.rng(STREAM_TRACE), s.trace_tol, s.trace_min_vectors, s.trace_max_vectors
    )
    rec.update(hessian_trace_hutchinson=tr, hessian_trace_hutchinson_se=se, hessian_trace_hutchinson_vectors=m)
    c.density = slq_density(c.hvp, c.loss.dim, c.rng(STREAM_SLQ), s.slq_runs, s.slq_steps, first=run)
    return rec, notes


def flatness_measures(c: Context):
    s = c.s
    rec = {
        "sharpness": sharpness(
            c.loss,
            c.theta,
            c.rng(STREAM_SHARP),
            s.sharpness_alpha,
            s.sharpness_steps,
            s.sharpness_restarts,
            s.sharpness_polish_iter,
        ),
        "sharpness_mag": magnitude_sharpness(
            c.loss,
            c.theta,
            rng_for(s.seed, STREAM_SHARP, 1),
            s.sharpness_alpha,
            s.flatness_epsilon,
            s.sharpness_steps,
            s.sharpness_restarts,
            s.sharpness_polish_iter,
        ),
    }
    notes = []
    theta0, m = flatten(c.params0), len(c.x)
    bounds = {
        "pacbayes": lambda w, w0, sigma: pacbayes_bound(w, w0, sigma, m),
        "pacbayes_mag": lambda w, w0, sigma: pacbayes_mag_bound(w, w0, sigma, s.flatness_epsilon, m),
    }
    for name, noise, stream in (("pacbayes", "isotropic", 0), ("pacbayes_mag", "magnitude_aware", 1)):
        sigma = pacbayes_sigma(
            c.params,
            c.x,
            c.y,
            rng_for(s.seed, STREAM_FLAT, stream),
            target_drop=s.flatness_target_drop,
            draws=s.flatness_draws,
            halvings=s.flatness_halvings,
            epsilon=s.flatness_epsilon,
            noise=noise,
        )
        rec[f"{name}_sigma"] = sigma
        rec[f"{name}_flatness"] = 1.0 / sigma**2 if sigma > 0 else None
        rec[f"{name}_init"] = bounds[name](c.theta, theta0, sigma) if sigma > 0 else None
        rec[f"{name}_orig"] = bounds[name](c.theta, np.zeros_like(c.theta), sigma) if sigma > 0 else None
        if sigma >= SIGMA_UPPER * (1 - 2.0**-s.flatness_halvings):
            notes.append(
                f"{name}_flatness: σ reached the search's upper bound {SIGMA_UPPER:g}; the value is a lower "
                "bound on flatness"
            )
        if sigma <= 0:
            notes.append(f"{name}_flatness: σ collapsed to 0 (any noise costs the target accuracy drop); left empty")
    return rec, notes


def sensitivity_measures(c: Context):
    x = np.asarray(c.x_test)[: c.s.jacobian_points]
    return {
        "jacobian_fro": jacobian_frobenius(c.params, x, c.threads),
        "output_entropy": output_entropy(c.params, c.x),
    }, []


def optimisation_measures(c: Context):
    """Step counts from the run's history and the gradient noise at the checkpoint."""
    if c.run is None:
        rec = {"steps_to_ce01": None, "steps_ce01_to_ce001": None, "gradient_noise": None}
        return rec, ["optimisation measures: no run history given; left empty"]
    rec = optimisation_steps(c.run.history, c.run.batches_per_epoch)
    notes = [f"{k}: its cross-entropy level was never reached; left empty" for k, v in rec.items() if v is None]
    rec["gradient_noise"] = gradient_noise(
        c.params, np.asarray(c.x, np.float64), c.y, c.run.batch_size, c.rng(STREAM_GRAD_NOISE)
    )
    if rec["gradient_noise"] is None:
        notes.append(
            f"gradient_noise: the subset ({len(c.x)}) is one mini-batch of {c.run.batch_size}: no noise; left empty"
        )
    return rec, notes


GROUPS = {
    "norms": norm_measures,
    "margin": margin_measures,
    "curvature": curvature_measures,
    "flatness": flatness_measures,
    "sensitivity": sensitivity_measures,
    "optimisation": optimisation_measures,
}


def checkpoint_measures(
    params: dict,
    params0: dict,
    x,
    y,
    x_test,
    settings,
    threads: int = 1,
    loss: TrainingLoss | None = None,
    log=None,
    run: RunInfo | None = None,
):
    """(record, notes, diagnostics, (nodes, weights)) for one checkpoint's weights.

    ``x, y``: the training subset and the labels trained on; ``x_test``: points for the
    input-output Jacobian. Every estimator is seeded from ``settings.seed``. Pass the
    ``loss`` of the same subset to reuse its compiled functions across checkpoints;
    ``log`` gets one line per group of measures; ``run``, the run's history, feeds the
    optimisation measures.
    """
    s = settings if isinstance(settings, MeasureSettings) else MeasureSettings.from_config(settings)
    c = Context(params, params0, x, y, x_test, s, loss or TrainingLoss(params, x, y, threads=threads), threads, run)
    record, notes = {}, []
    for name, group in GROUPS.items():
        started = time.perf_counter()
        part, group_notes = group(c)
        record.update(part)
        notes += group_notes
        if log:
            log(f"  {name}: {time.perf_counter() - started:.2f} s")
    check_record(record)
    record = {
        k: (None if v is None or (isinstance(v, float) and not math.isfinite(v)) else v) for k, v in record.items()
    }
    diagnostics = {"training_loss_float64": c.loss.value(c.theta), "n_parameters": c.loss.dim}
    return record, notes, diagnostics, c.density
