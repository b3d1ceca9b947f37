"""What a job needs: memory and time of train and measures jobs, from their sizes.

Used twice, so the two never disagree: by the config check, which refuses a network
that cannot fit before any job starts, and by the rules' ``resources``, which grow
with n, the architecture and the retry attempt. The per-example costs are sized
generously from ``make bench`` (docs/performance.md, "How it scales"); the headroom covers
slower nodes. No numpy: the Snakefile calls these at parse time.
"""

from __future__ import annotations

import math

from .contract import CHECKPOINTS
from .study import n_parameters, network_sizes

TF_PROCESS_MB = 900  # an idle Python process with TensorFlow and numpy imported
SECONDS_PER_EXAMPLE_PARAM = 5e-11  # one epoch's updates and exact evaluation, per example and parameter
STARTUP_S = 30  # TensorFlow import and XLA compilation
HEADROOM = 10  # runtime requested / runtime expected


def train_memory_mb(n: int, n_test: int, n_features: int, sizes) -> float:
    """float32: the subset and the evaluation stack, weights with Adam's two moments and the
    acc1 and ce001 snapshots (and their full-size copies when saved), and the activations."""
    data = (2 * n + n_test) * n_features * 4
    params = 10 * n_parameters(sizes) * 4
    activations = 6 * (n + n_test) * sum(sizes[1:]) * 4
    return TF_PROCESS_MB + (data + params + activations) / 2**20


def measures_memory_mb(n: int, n_features: int, sizes, lanczos_vectors: int, jacobian_batch: int = 250) -> float:
    """float64: the subset, the Lanczos basis (one vector per step, re-orthogonalised
    against all), a few work vectors, activations of an HVP (forward-over-backward
    keeps about six copies) and a batch of input-output Jacobians."""
    p = n_parameters(sizes)
    data = n * n_features * 8
    basis = (lanczos_vectors + 10) * p * 8
    activations = 6 * n * sum(sizes[1:]) * 8
    jacobians = jacobian_batch * sizes[-1] * n_features * 8 * 3
    return TF_PROCESS_MB + (data + basis + activations + jacobians) / 2**20


def train_runtime_min(n: int, n_test: int, sizes, max_epochs: int, test_every: int = 1) -> float:
    """One run of ``n`` examples, up to ``max_epochs``: the updates every epoch, the test set's
    evaluation every ``test_every``-th."""
    epochs_s = max_epochs * SECONDS_PER_EXAMPLE_PARAM * (n + n_test / (3 * test_every)) * n_parameters(sizes)
    return HEADROOM * (STARTUP_S + epochs_s) / 60


def measures_runtime_min(n: int, sizes, products_per_checkpoint: int, checkpoints: int) -> float:
    """One run of ``n`` examples, all of its checkpoints; a float64 HVP costs about eight
    epochs' worth of arithmetic per example and parameter."""
    per_example = 8 * SECONDS_PER_EXAMPLE_PARAM * n_parameters(sizes)
    seconds = STARTUP_S + checkpoints * products_per_checkpoint * per_example * n
    return HEADROOM * seconds / 60


def job_resources(rule: str, size: int, hidden: list, attempt: int, config: dict, data: dict) -> dict:
    """``mem_mb`` and ``runtime`` (minutes) of one train or measures job: one run, of ``size``
    examples and the network ``hidden``. They grow with n and the network, and with the
    attempt: a retry gets 1.5× the memory and the attempt × the time, so a job that hit a
    limit is not resubmitted into the same one."""
    sizes, m, train = network_sizes(data, hidden), config["measures"], config["train"]
    if rule == "train":
        mb = train_memory_mb(size, config["test_size"], data["n_features"], sizes)
        minutes = train_runtime_min(size, config["test_size"], sizes, train["max_epochs"], train["test_every"])
    else:
        mb = measures_memory_mb(size, data["n_features"], sizes, max(m["lanczos_max_iter"], m["slq_steps"]))
        products = m["lanczos_max_iter"] + m["slq_runs"] * m["slq_steps"] + m["trace_max_vectors"] + 100
        minutes = measures_runtime_min(size, sizes, products, len(CHECKPOINTS))
    return {"mem_mb": int(1.5 * mb * 1.5 ** (attempt - 1)), "runtime": math.ceil(minutes) * attempt}
