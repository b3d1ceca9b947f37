"""Plain helpers the tests import: running the real workflow, configs, tiny networks, exact
references. Fixtures and the collection hook stay in conftest.py."""

import itertools
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
TINY_CONFIG = ROOT / ".test" / "config" / "config.yaml"  # the tiny study, also what CI runs


def run_snakemake(workdir, *args, configfile=None, check=True, timeout=1200, env=None):
    """Run the real workflow (this repository's Snakefile) in ``workdir``; ``env`` replaces the
    process environment."""
    cmd = [SNAKEMAKE, "-s", str(ROOT / "Snakefile"), "--directory", str(workdir)]
    if configfile:
        cmd += ["--configfile", str(configfile)]
    cmd += list(args)
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=workdir, env=env)
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-6000:]}")
    return proc


def planned_jobs(proc) -> dict:
    """Job counts of a dry run's 'Job stats' table; none when Snakemake says nothing is to be done."""
    out = proc.stdout + proc.stderr
    if "Job stats:" not in out and "Nothing to be done" in out:
        return {}
    stats = out.split("Job stats:")[1].split("\n\n")[0]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)$", stats, re.M) if m.group(1) != "total"}


def write_config(directory, base, **overrides):
    """``base`` config with top-level keys replaced (sections merged), written to directory/config.yaml."""
    cfg = yaml.safe_load(Path(base).read_text())
    for k, v in overrides.items():
        cfg[k] = {**cfg[k], **v} if isinstance(v, dict) and isinstance(cfg.get(k), dict) else v
    path = Path(directory) / "config.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def tiny_params(seed=0, sizes=(8, 4, 3, 10)):
    from genstudy.model import glorot_uniform_init

    p = glorot_uniform_init(list(sizes), seed)
    rng = np.random.default_rng(seed + 100)
    for k in p:  # non-zero biases so they matter in every test
        if k.startswith("b"):
            p[k] = rng.normal(0, 0.3, p[k].shape).astype(np.float32)
    return {k: v.astype(np.float64) for k, v in p.items()}


def top_eigenvalues(hvp, dim: int, k: int, rng, max_iter: int, tol: float):
    """Top-k Hessian eigenvalues by the measures' Lanczos, NaN where not converged to ``tol``;
    and the number of HVPs used."""
    from genstudy import curvature

    res = curvature.hessian_lanczos(hvp, dim, k, rng, max_iter, tol)
    top, ok = curvature.converged_top(res, k, tol)
    return np.where(ok, top, np.nan), len(res.alpha)


def finite_difference_hessian(params, x, y, h=1e-4):
    """Dense Hessian of the mean numpy loss by central finite differences: no autodiff at all."""
    from genstudy.model import cross_entropy, flatten, logits, unflatten

    theta = flatten(params)
    f = lambda t: cross_entropy(logits(unflatten(t, params), x), y).mean()
    d = len(theta)
    E = np.eye(d) * h
    H = np.zeros((d, d))
    for i in range(d):
        for j in range(i, d):
            H[i, j] = H[j, i] = (
                f(theta + E[i] + E[j]) - f(theta + E[i] - E[j]) - f(theta - E[i] + E[j]) + f(theta - E[i] - E[j])
            ) / (4 * h * h)
    return H


def brute_force_path_sum(params, per_edge):
    """Σ over every input→output path of ∏ per_edge(W_i, i, j_{i-1}, j_i), by enumeration."""
    from genstudy.model import depth_of

    Ws = [params[f"W{i}"] for i in range(1, depth_of(params) + 1)]
    widths = [Ws[0].shape[0]] + [W.shape[1] for W in Ws]
    total = 0.0
    for path in itertools.product(*(range(w) for w in widths)):
        total += np.prod([per_edge(W, i, path[i], path[i + 1]) for i, W in enumerate(Ws)])
    return total


def tiny_data(seed=0, n=20, d=8, classes=10):
    rng = np.random.default_rng(seed + 200)
    return rng.normal(size=(n, d)), rng.integers(0, classes, size=n)


def fake_run_keys(label_mode: str, size: int) -> dict:
    """The axes of a run that ``fake_run`` writes."""
    return {
        "label_mode": label_mode,
        "hidden": [4],
        "learning_rate": 0.001,
        "batch_size": 16,
        "protocol": "independent",
        "size": size,
        "seed": 0,
    }


def fake_run(tmp_path, label_mode="correct", size=32, reached_loss0=True):
    """A run's files written by write_training_outputs from a hand-made result."""
    from genstudy.runs import write_training_outputs
    from genstudy.training import TrainResult, TrainSettings

    p0 = {k: v.astype(np.float32) for k, v in tiny_params(0, (6, 4, 3)).items()}
    p1 = {k: v * 1.5 for k, v in p0.items()}
    history = np.array(
        [[0, 1.1, 0.3, 1.2, 0.25], [1, 0.5, 0.8, 0.9, 0.5], [2, 0.2, 1.0, 0.8, 0.6], [3, 0.05, 1.0, 0.85, 0.55]]
    )
    result = TrainResult(
        history=history,
        final_params=p1,
        final_epoch=3,
        acc1_epoch=2,
        acc1_params=p0,
        loss0_epoch=3 if reached_loss0 else None,
        batches_per_epoch=2,
        optimizer={"m_W1": np.zeros((6, 4)), "step": np.array(6)},
        ce001_epoch=None,
    )
    run_dir = tmp_path / f"{label_mode}-{size}"
    outputs = {name: run_dir / f"{name}.npz" for name in ("acc1", "ce001", "loss0", "final", "optimizer")}
    outputs.update(history=run_dir / "history.csv", summary=run_dir / "summary.json")
    run = fake_run_keys(label_mode, size)
    settings = TrainSettings.with_defaults(target_loss=0.1, max_epochs=3)
    write_training_outputs(result, settings, outputs, run, "subsets/x.npz", p0, log=lambda m: None, study="t")
    return run_dir, p0, p1, history


def measure_record(run, checkpoint, **measures):
    base = {
        "l2_seed": 4.0,
        "dist_init": 1.0,
        "fro_1": 1.0,
        "fro_2": 1.0,
        "spec_1": 1.0,
        "spec_2": 1.0,
        "margin": 2.0,
        "inverse_margin": 0.25,
        "l2_margin": 16.0,
        "spec_margin": 1.0,
        "l1_path_margin": 4.0,
        "l2_path_margin": 9.0,
        "hessian_eig_1": 0.5,
        "hessian_eig_2": None,
        "hessian_eig_steps": 5,
        "hessian_trace": 4.0,
        "hessian_trace_hutchinson": 4.1,
        "hessian_trace_hutchinson_se": 0.1,
        "hessian_trace_hutchinson_vectors": 10,
        "sharpness": -0.0,
        "pacbayes_flatness": 100.0,
        "pacbayes_mag_flatness": 2.0,
        "pacbayes_sigma": 0.1,
        "pacbayes_mag_sigma": 0.7,
        "jacobian_fro": 0.3,
    }
    return {"study": "t", "run": run, "checkpoint": checkpoint, "measures": {**base, **measures}}
