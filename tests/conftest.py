import itertools
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "workflow" / "scripts"))
sys.path.insert(0, str(ROOT / "tools"))  # the benchmark tools' pure functions (jobtimes)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
TINY_CONFIG = ROOT / "tests" / "configs" / "tiny.yaml"


# Fixtures that run the real workflow (or install something): a test that uses one is slow.
SLOW_FIXTURES = {"tiny_study", "tiny_copy", "uninterrupted", "oldest_snakemake", "snakedeploy", "loss0_checkpoints"}


def pytest_collection_modifyitems(config, items):
    """Mark ``slow`` every test that runs the real workflow, trains the default network or starts
    a cluster; ``make test-fast`` runs the rest (unit and numeric tests, dry runs)."""
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


def run_snakemake(workdir, *args, configfile=None, check=True, timeout=1200):
    """Run the real workflow (this repository's Snakefile) in ``workdir``."""
    cmd = [SNAKEMAKE, "-s", str(ROOT / "Snakefile"), "--directory", str(workdir)]
    if configfile:
        cmd += ["--configfile", str(configfile)]
    cmd += list(args)
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=workdir)
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-6000:]}")
    return proc


def planned_jobs(proc) -> dict:
    """Job counts of a dry run's 'Job stats' table."""
    out = proc.stdout + proc.stderr
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


@pytest.fixture(scope="session")
def mnist5k_pool():
    from genstudy.data import prepare_pool_and_test

    return prepare_pool_and_test("mnist5k", 1000, 0)[:4]


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


@pytest.fixture(scope="session")
def tiny_study(tmp_path_factory):
    """The tiny config run locally once, shared by every test that reads its results."""
    work = tmp_path_factory.mktemp("tiny_study")
    run_snakemake(work, "--cores", "2", configfile=TINY_CONFIG)
    return work
