"""Jobs that die: a killed training job resumes to the same bytes; broken inputs give clear errors."""

import os
import random
import signal
import subprocess
import time

import numpy as np
import pytest

from conftest import ROOT, SNAKEMAKE, run_snakemake
from genstudy.arrays import FileContractError, load_params, load_subset

RESUME_CONFIG = ROOT / "tests" / "configs" / "resume.yaml"
AXES = "random/h64-64/lr0.001/bs32/independent"
RUN = f"results/resume/train/{AXES}/n512/seed0"
TARGET = f"{RUN}/summary.json"
STATE = f"results/resume/resume/{AXES}/n512/seed0.npz"
FILES = ("acc1.npz", "loss0.npz", "final.npz", "optimizer.npz", "history.csv", "summary.json")


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    work = tmp_path_factory.mktemp("uninterrupted")
    run_snakemake(work, "--cores", "1", TARGET, configfile=RESUME_CONFIG)
    return work


def test_killed_training_job_resumes_to_identical_files(uninterrupted, tmp_path):
    work = tmp_path
    cmd = [
        SNAKEMAKE,
        "-s",
        str(ROOT / "Snakefile"),
        "--directory",
        str(work),
        "--configfile",
        str(RESUME_CONFIG),
        "--cores",
        "1",
        TARGET,
    ]
    proc = subprocess.Popen(cmd, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    state = work / STATE
    deadline = time.time() + 300
    while not state.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert state.exists(), "training never saved a resumable state"
    delay = random.Random().uniform(0.2, 2.0)
    time.sleep(delay)
    os.killpg(proc.pid, signal.SIGKILL)  # snakemake and the training process with it
    proc.wait()
    with np.load(state) as st:
        killed_at = int(st["epoch"])
    assert 0 < killed_at < 1500, f"killed after {delay:.2f} s at epoch {killed_at}"
    # nothing that Snakemake could take as a finished job
    assert not any((work / RUN / f).exists() for f in FILES)
    dry = run_snakemake(work, "-n", "--cores", "1", TARGET, configfile=RESUME_CONFIG)
    assert "train" in dry.stdout + dry.stderr
    # a SIGKILLed snakemake leaves its lock behind, as after any kill
    run_snakemake(work, "--unlock", TARGET, configfile=RESUME_CONFIG)
    run_snakemake(work, "--cores", "1", "--rerun-incomplete", TARGET, configfile=RESUME_CONFIG)
    log = (work / f"results/resume/logs/train/{AXES}/n512/seed0.log").read_text()
    assert f"resumed from {STATE} at epoch " in log
    resumed_at = int(log.split(f"resumed from {STATE} at epoch ")[1].split()[0])
    assert 0 < resumed_at <= killed_at + 10
    for f in FILES:
        assert (work / RUN / f).read_bytes() == (uninterrupted / RUN / f).read_bytes(), f
    assert not state.exists()  # cleaned up once the job finished
    again = run_snakemake(work, "--cores", "1", TARGET, configfile=RESUME_CONFIG)
    assert "Nothing to be done" in again.stdout + again.stderr


def test_truncated_checkpoint_names_the_file(uninterrupted, tmp_path):
    path = uninterrupted / RUN / "loss0.npz"
    data = path.read_bytes()
    try:
        path.write_bytes(data[: len(data) // 2])
        target = f"results/resume/measures/{AXES}/n512/seed0/loss0.json"
        proc = run_snakemake(uninterrupted, "--cores", "1", target, configfile=RESUME_CONFIG, check=False)
        assert proc.returncode != 0
        log = (uninterrupted / f"results/resume/logs/measures/{AXES}/n512/seed0.log").read_text()
        # its hash is no longer the one the run's summary lists: refused before it is read
        assert f"{RUN}/loss0.npz: not the loss0 of {RUN}" in log, log[-2000:]
        assert not (uninterrupted / target).exists()
    finally:
        path.write_bytes(data)


def test_loaders_name_the_file_and_the_problem(tmp_path):
    bad = tmp_path / "truncated.npz"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(FileContractError, match=r"truncated.npz: unreadable or truncated npz file"):
        load_params(bad)
    shapes = tmp_path / "shapes.npz"
    np.savez(
        shapes,
        W1=np.zeros((4, 3)),
        b1=np.zeros(3),
        W2=np.zeros((5, 2)),
        b2=np.zeros(2),
        W3=np.zeros((2, 10)),
        b3=np.zeros(10),
    )
    with pytest.raises(FileContractError, match=r"shapes.npz: inconsistent shapes W2 \(5, 2\)"):
        load_params(shapes)
    sub = tmp_path / "subset.npz"
    np.savez(sub, x=np.zeros((5, 784)), y=np.zeros(4), y_true=np.zeros(5), index=np.zeros(5))
    with pytest.raises(FileContractError, match=r"subset.npz: expected x \(n, d\).*y \(4,\)"):
        load_subset(sub)
    with pytest.raises(FileContractError, match="missing.npz: file not found"):
        load_subset(tmp_path / "missing.npz")
