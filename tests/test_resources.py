"""Per-run resources (genstudy.resources): every term of the estimates."""

import json
import math

import pytest
import yaml

from genstudy.resources import (
    job_resources,
    measures_memory_mb,
    measures_runtime_min,
    train_memory_mb,
    train_runtime_min,
)
from helpers import ROOT

DEFAULT = yaml.safe_load((ROOT / "config.yaml").read_text())


def test_resource_estimates_count_every_term():
    sizes = [784, 64, 64, 10]
    p = 784 * 64 + 64 + 64 * 64 + 64 + 64 * 10 + 10
    assert train_memory_mb(100, 50, 784, sizes) == pytest.approx(
        900 + ((2 * 100 + 50) * 784 * 4 + 10 * p * 4 + 6 * 150 * (64 + 64 + 10) * 4) / 2**20
    )
    assert measures_memory_mb(100, 784, sizes, 60) == pytest.approx(
        900 + (100 * 784 * 8 + 70 * p * 8 + 6 * 100 * 138 * 8 + 250 * 10 * 784 * 8 * 3) / 2**20
    )
    assert measures_runtime_min(1000, sizes, 100, 2) == pytest.approx(10 * (30 + 2 * 100 * 8 * 5e-11 * p * 1000) / 60)
    cfg = json.loads(json.dumps(DEFAULT))
    train = job_resources("train", 1024, [64, 64], 1, cfg, {"n_features": 784, "n_classes": None})  # K: 10
    assert train["mem_mb"] == int(1.5 * train_memory_mb(1024, 1000, 784, sizes))
    assert train_runtime_min(10, 10, [2, 2], 1) == pytest.approx(5.0)  # start-up alone: 10 × 30 s
    assert train_runtime_min(10**6, 3000, sizes, 3000) == pytest.approx(
        10 * (30 + 3000 * 5e-11 * (10**6 + 1000) * p) / 60
    )
    assert train_runtime_min(10**6, 3000, sizes, 3000, test_every=10) == pytest.approx(
        10 * (30 + 3000 * 5e-11 * (10**6 + 100) * p) / 60
    )
    m = cfg["measures"]
    products = m["lanczos_max_iter"] + m["slq_runs"] * m["slq_steps"] + m["trace_max_vectors"] + 100
    measures = job_resources("measures", 3 * 10**6, [64, 64], 2, cfg, {"n_features": 784, "n_classes": None})
    assert measures["runtime"] == 2 * math.ceil(measures_runtime_min(3 * 10**6, sizes, products, 3))
    assert measures["runtime"] == 2 * math.ceil(10 * (30 + 3 * products * 8 * 5e-11 * p * 3 * 10**6) / 60)


def test_job_resources_are_those_of_one_run():
    data = {"n_features": 784, "n_classes": 10}
    for rule in ("train", "measures"):
        base = job_resources(rule, 128, [64, 64], 1, DEFAULT, data)
        again = job_resources(rule, 128, [64, 64], 2, DEFAULT, data)
        assert abs(again["mem_mb"] - 1.5 * base["mem_mb"]) <= 2
        assert again["runtime"] == 2 * base["runtime"] and base["runtime"] >= 5
        # the study's other sizes do not change what one run asks for
        assert job_resources(rule, 128, [64, 64], 1, {**DEFAULT, "sizes": [128, 50000]}, data) == base
    small = job_resources("train", 128, [64, 64], 1, DEFAULT, data)
    big = job_resources("train", 50000, [64, 64], 1, DEFAULT, data)
    assert big["mem_mb"] > small["mem_mb"] and big["runtime"] > small["runtime"]
    assert 900 < small["mem_mb"] < 3000  # a TensorFlow process and a little data
    # evaluating the test set every epoch costs time, not memory
    every = {**DEFAULT, "test_size": 10**6, "train": {**DEFAULT["train"], "test_every": 1}}
    sparse = {**every, "train": {**every["train"], "test_every": 100}}
    assert (
        job_resources("train", 128, [64, 64], 1, every, data)["runtime"]
        > job_resources("train", 128, [64, 64], 1, sparse, data)["runtime"]
    )
