"""A train job and a measures job as functions (genstudy.jobs), without Snakemake: one run each,
its inputs checked to be that run's, its outputs written only once all are computed."""

import json

import numpy as np
import pytest

from genstudy.arrays import FileContractError, save_npz
from genstudy.config import schema_defaults
from genstudy.contract import CHECKPOINTS, TRAIN_SETTINGS
from genstudy.identity import subset_identity
from genstudy.jobs import measure_run, train_run
from genstudy.model import glorot_uniform_init
from genstudy.study import carried_from

pytestmark = pytest.mark.tensorflow

STUDY = "jobs"
TRAIN = {**schema_defaults("train"), "max_epochs": 40, "target_loss": 1e-3, "chunk_epochs": 20}
MEASURES = {
    **schema_defaults("measures"),
    **dict(top_k=2, lanczos_max_iter=10, slq_runs=1, slq_steps=10, trace_min_vectors=2, trace_max_vectors=4),
    **dict(sharpness_steps=2, sharpness_restarts=1, flatness_draws=2, flatness_halvings=3, jacobian_points=20),
}


def run_of(size, protocol="independent"):
    return dict(
        label_mode="correct", hidden=[8], learning_rate=0.01, batch_size=16, protocol=protocol, size=size, seed=0
    )


@pytest.fixture(scope="module")
def files(mnist5k_pool, tmp_path_factory):
    """Subsets of n = 32 and 48, initial weights and a test set, as the data rules write them."""
    root = tmp_path_factory.mktemp("jobs")
    x, y, xt, yt = mnist5k_pool
    for n in (32, 48):
        identity = json.dumps(subset_identity(STUDY, "correct", 0, n), sort_keys=True)
        save_npz(root / f"n{n}.npz", x=x[:n], y=y[:n], y_true=y[:n], index=np.arange(n), identity=np.array(identity))
    save_npz(root / "init.npz", **glorot_uniform_init([784, 8, 10], 0))
    save_npz(root / "test.npz", x=xt[:50], y=yt[:50])
    return root


def train_files(root, n, protocol="independent"):
    out = root / f"{protocol}-n{n}"
    names = {c: f"{c}.npz" for c in (*CHECKPOINTS, "final", "optimizer")} | {"history": "history.csv"}
    return {k: out / v for k, v in (names | {"summary": "summary.json"}).items()}


def trained(root, n, protocol="independent", **extra):
    inputs = dict(subset=root / f"n{n}.npz", init=root / "init.npz", test=root / "test.npz", **extra)
    outputs = train_files(root, n, protocol)
    state = root / f"state-{protocol}-{n}.npz"
    return train_run(run_of(n, protocol), inputs, outputs, state, TRAIN, STUDY, log=lambda m: None), outputs


def test_a_train_job_writes_its_run_and_continues_the_next_larger_size_s_adam_state(files):
    assert set(TRAIN_SETTINGS) <= set(TRAIN)
    big, big_files = trained(files, 48, "carry_optimizer")
    assert carried_from([32, 48], 32, "carry_optimizer") == 48
    small, small_files = trained(
        files,
        32,
        "carry_optimizer",
        optimizer=big_files["optimizer"],
        optimizer_summary=big_files["summary"],
    )
    summary = json.loads(small_files["summary"].read_text())
    assert summary["study"] == STUDY and summary["run"] == run_of(32, "carry_optimizer")
    assert int(small.optimizer["step"]) == big.final_epoch * 3 + small.final_epoch * 2  # Adam counted on
    assert not (files / "state-carry_optimizer-32.npz").exists()  # removed once the outputs exist


def test_a_train_job_refuses_a_subset_or_a_carried_state_that_is_not_its_own(files):
    _, big_files = trained(files, 48)
    with pytest.raises(FileContractError, match=r"n48.npz: holds .*\"n\": 48.*but is read as .*\"n\": 32"):
        train_run(
            run_of(32),
            dict(subset=files / "n48.npz", init=files / "init.npz", test=files / "test.npz"),
            train_files(files, 32, "wrong"),
            files / "s.npz",
            TRAIN,
            STUDY,
        )
    with pytest.raises(FileContractError, match=r"summary.json: holds .*independent.*but is read as .*carry_optimizer"):
        trained(files, 32, "carry_optimizer", optimizer=big_files["optimizer"], optimizer_summary=big_files["summary"])
    assert not train_files(files, 32, "wrong")["summary"].exists()


def test_a_measures_job_records_what_it_measured_and_refuses_another_run_s_checkpoint(files, tmp_path):
    _, run_files = trained(files, 32)
    inputs = {c: run_files[c] for c in (*CHECKPOINTS, "history", "summary")}
    inputs |= dict(subset=files / "n32.npz", init=files / "init.npz", test=files / "test.npz")
    outputs = {c: tmp_path / f"{c}.json" for c in CHECKPOINTS} | {
        f"{c}_density": tmp_path / f"{c}_density.npz" for c in CHECKPOINTS
    }
    measure_run(run_of(32), inputs, outputs, MEASURES, STUDY, log=lambda m: None)
    summary = json.loads(run_files["summary"].read_text())
    for c in CHECKPOINTS:
        doc = json.loads(outputs[c].read_text())
        assert (doc["study"], doc["run"], doc["checkpoint"]) == (STUDY, run_of(32), c)
        assert doc["checkpoint_sha256"] == summary["files"][c] and doc["measures"]["l2_seed"] > 0
    for p in outputs.values():
        p.unlink()
    swapped = {**inputs, "acc1": inputs["loss0"], "loss0": inputs["acc1"]}
    with pytest.raises(FileContractError, match=r"loss0.npz: not the acc1 of"):
        measure_run(run_of(32), swapped, outputs, MEASURES, STUDY, log=lambda m: None)
    assert not any(p.exists() for p in outputs.values())  # nothing written
