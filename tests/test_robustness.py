"""Nothing silently wrong: bad input refused up front with the key or file named, damaged
intermediates refused on read, diverged training stopped or marked, work redone when needed."""

import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from genstudy.arrays import FileContractError, load_params, load_subset
from genstudy.config import typed_config
from genstudy.runs import divergence
from genstudy.training import TrainingDiverged, TrainSettings, train_to_targets
from helpers import ROOT, SNAKEMAKE, TINY_CONFIG, planned_jobs, run_snakemake, write_config

RESUME_CONFIG = ROOT / "tests" / "configs" / "resume.yaml"
AXES = "random/h64-64/lr0.001/bs32/independent"
RUN = f"results/resume/train/{AXES}/n512/seed0"
TARGET = f"{RUN}/summary.json"
STATE = f"results/resume/resume/{AXES}/n512/seed0.npz"
FILES = ("acc1.npz", "loss0.npz", "final.npz", "optimizer.npz", "history.csv", "summary.json")


DEFAULT_CONFIG = ROOT / "config.yaml"
SCHEMA = yaml.safe_load((ROOT / "workflow/schemas/config.schema.yaml").read_text())


def refused(tmp_path, message, base=DEFAULT_CONFIG, **override):
    path = write_config(tmp_path, base, **override)
    proc = run_snakemake(tmp_path, "-n", "--cores", "1", configfile=path, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "Traceback" not in out.split("Invalid configuration")[-1], out[-3000:]
    assert __import__("re").search(message, out), out[-3000:]
    assert not (tmp_path / "results").exists()
    return out


BAD_SETTINGS = [
    ({"train": {"target_loss": float("nan")}}, r"train\.target_loss: must be finite"),
    ({"train": {"learning_rate": float("inf")}}, r"train\.learning_rate: must be finite"),
    ({"measures": {"flatness_target_drop": float("nan")}}, r"measures\.flatness_target_drop: must be finite"),
    (
        {"measures": {"trace_min_vectors": 40, "trace_max_vectors": 20}},
        r"measures\.trace_min_vectors \(40\) exceeds measures\.trace_max_vectors \(20\)",
    ),
    ({"measures": {"top_k": 20, "lanczos_max_iter": 10}}, r"measures\.top_k \(20\) exceeds measures\.lanczos_max_iter"),
    ({"measures": {"top_k": 100000}}, r"top_k|100000"),
    (
        {"model": {"hidden": [100000, 100000]}},
        r"model\.hidden: \[100000, 100000\] \(10,079,600,010 parameters\) "
        r"needs about [\d.]+ GiB in a (train|measures) job",
    ),
]


@pytest.mark.parametrize("override,message", BAD_SETTINGS, ids=[str(i) for i in range(len(BAD_SETTINGS))])
def test_bad_settings_are_refused_naming_the_key(tmp_path, override, message):
    refused(tmp_path, message, **override)


def test_integer_valued_floats_are_integers_everywhere(tmp_path):
    typed = typed_config(
        {"train": {"batch_size": 32.0, "chunk_epochs": "50.0", "max_epochs": "200"}, "sizes": "[64, 96.0]"}, SCHEMA
    )
    assert typed["train"] == {"batch_size": 32, "chunk_epochs": 50, "max_epochs": 200}
    assert typed["sizes"] == [64, 96] and all(type(v) is int for v in typed["sizes"])
    assert typed_config({"train": {"learning_rate": "1e-3"}}, SCHEMA)["train"]["learning_rate"] == 0.001
    path = write_config(tmp_path, TINY_CONFIG, train={"batch_size": 16.0, "chunk_epochs": 50.0})
    proc = run_snakemake(tmp_path, "-n", "--cores", "1", configfile=path)
    assert "bs16" in proc.stdout and "bs16.0" not in proc.stdout


def npz(path, **arrays):
    np.savez(path, **arrays)
    return str(path)


def images(n, shape=(8, 8), classes=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, *shape)).astype(np.uint8), np.arange(n) % classes


DATASET_FAULTS = {
    "nan pixels": (
        lambda x, y, xt, yt: (x.astype(float) * np.where(np.arange(len(x))[:, None, None] == 3, np.nan, 1), y, xt, yt),
        r"x_train: pixel values must be finite",
    ),
    "negative pixels": (
        lambda x, y, xt, yt: (x.astype(int) - 300, y, xt, yt),
        r"x_train: pixel values must be "
        r"non-negative",
    ),
    "pixels above 255": (lambda x, y, xt, yt: (x.astype(float) * 2, y, xt, yt), r"x_train: pixel values above 255"),
    "test shape": (lambda x, y, xt, yt: (x, y, xt[:, :4], yt), r"x_test: expected images of shape \(N, 8, 8\)"),
    "fractional labels": (lambda x, y, xt, yt: (x, y + 0.5, xt, yt), r"y_train: labels must be integers"),
    "negative labels": (lambda x, y, xt, yt: (x, y - 1, xt, yt), r"y_train: labels must lie in"),
    "string labels": (
        lambda x, y, xt, yt: (x, y.astype(str), xt, yt),
        r"y_train: labels must be integers 0..K-1, "
        r"got dtype <U",
    ),
    "length mismatch": (lambda x, y, xt, yt: (x, y[:-5], xt, yt), r"y_train: expected labels of shape \(200,\)"),
    "empty test split": (lambda x, y, xt, yt: (x, y, xt[:0], yt[:0]), r"x_test: expected a non-empty array"),
}


@pytest.mark.parametrize("fault", sorted(DATASET_FAULTS))
def test_dataset_content_is_checked_before_any_job(tmp_path, fault):
    change, message = DATASET_FAULTS[fault]
    x, y = images(200)
    xt, yt = images(60, seed=1)
    x, y, xt, yt = change(x, y, xt, yt)
    path = npz(tmp_path / "data.npz", x_train=x, y_train=y, x_test=xt, y_test=yt)
    out = refused(tmp_path, message, base=TINY_CONFIG, dataset=path, test_size=30, sizes=[32])
    assert "data.npz" in out


def test_a_text_file_named_npz_is_refused_saying_what_it_is(tmp_path):
    (tmp_path / "notes.npz").write_text("x_train, y_train\n1, 2\n")
    refused(tmp_path, r"notes.npz is not a zip archive", base=TINY_CONFIG, dataset=str(tmp_path / "notes.npz"))


def test_classes_missing_from_a_split_give_a_warning(tmp_path):
    x, _ = images(200)
    xt, yt = images(60, seed=1)
    y = np.where(np.arange(200) % 2 == 0, 0, 4)  # classes 0 and 4 only: 1, 2, 3 never occur
    path = npz(tmp_path / "sparse.npz", x_train=x, y_train=y, x_test=xt, y_test=yt)
    cfg = write_config(tmp_path, TINY_CONFIG, dataset=path, test_size=30, sizes=[32])
    proc = run_snakemake(tmp_path, "-n", "--cores", "1", configfile=cfg)
    assert "classes [1, 2, 3] of 0..4 never occur in y_train" in proc.stdout + proc.stderr


def test_an_offline_machine_is_told_where_a_download_would_be_read(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    for name in ("mnist", "fashion_mnist", "cifar10"):
        out = refused(tmp_path, rf"dataset: {name} is not downloaded", dataset=name)
        assert str(tmp_path / "keras" / "datasets") in out and "cannot be reached" in out


def test_the_config_file_checker_names_the_file_and_the_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("study: x\nsizes: [128, 256\nseeds: [0]\n")
    script = ROOT / "tools/check_config_file.py"
    proc = subprocess.run([sys.executable, str(script), str(bad)], capture_output=True, text=True)
    assert proc.returncode == 1 and "bad.yaml, line 3, column 6: not valid YAML" in proc.stderr, proc.stderr
    assert subprocess.run([sys.executable, str(script), str(ROOT / "config.yaml")]).returncode == 0


def test_replacing_the_dataset_file_reruns_what_reads_it(tmp_path):
    x, y = images(200)
    xt, yt = images(60, seed=1)
    path = npz(tmp_path / "data.npz", x_train=x, y_train=y, x_test=xt, y_test=yt)
    cfg = write_config(tmp_path, TINY_CONFIG, dataset=path, test_size=30, sizes=[32], study="swap")
    run_snakemake(tmp_path, "--cores", "1", "results/swap/data/dataset.json", configfile=cfg)
    assert (
        "Nothing to be done"
        in run_snakemake(tmp_path, "-n", "--cores", "1", "results/swap/data/dataset.json", configfile=cfg).stdout
    )
    time.sleep(1.1)
    npz(tmp_path / "data.npz", x_train=x[::-1], y_train=y[::-1], x_test=xt, y_test=yt)
    assert (
        planned_jobs(run_snakemake(tmp_path, "-n", "--cores", "1", "results/swap/data/dataset.json", configfile=cfg))[
            "prepare_data"
        ]
        == 1
    )


def test_a_dataset_replaced_by_an_older_file_is_noticed_by_its_content(tmp_path):
    x, y = images(200)
    xt, yt = images(60, seed=1)
    older = npz(tmp_path / "older.npz", x_train=x[::-1], y_train=y[::-1], x_test=xt, y_test=yt)
    time.sleep(1.1)
    path = npz(tmp_path / "data.npz", x_train=x, y_train=y, x_test=xt, y_test=yt)
    cfg = write_config(tmp_path, TINY_CONFIG, dataset=path, test_size=30, sizes=[32], study="swap")
    target = "results/swap/data/dataset.json"
    run_snakemake(tmp_path, "--cores", "1", target, configfile=cfg)
    subprocess.run(["cp", "-p", older, path], check=True)  # other content, an older time
    assert os.path.getmtime(path) < os.path.getmtime(tmp_path / target)
    jobs = planned_jobs(run_snakemake(tmp_path, "-n", "--cores", "1", target, configfile=cfg))
    assert jobs["prepare_data"] == 1
    run_snakemake(tmp_path, "--cores", "1", target, configfile=cfg)
    assert (
        json.loads((tmp_path / target).read_text())["sha256"]
        == __import__("hashlib").sha256(Path(path).read_bytes()).hexdigest()
    )


@pytest.fixture(scope="module")
def diverging_problem(mnist5k_pool):
    from genstudy.model import glorot_uniform_init

    x, y, xt, yt = mnist5k_pool
    return glorot_uniform_init([784, 16, 10], 0), x[:64], y[:64], xt[:50], yt[:50]


def test_a_non_finite_loss_stops_training_naming_the_learning_rate(diverging_problem, tmp_path):
    params0, x, y, xt, yt = diverging_problem
    s = TrainSettings.with_defaults(learning_rate=float("nan"), batch_size=16, max_epochs=50, chunk_epochs=10)
    with pytest.raises(TrainingDiverged, match=r"training loss became nan at epoch 1 with learning rate nan"):
        train_to_targets(params0, x, y, xt, yt, s, state_path=tmp_path / "state.npz", log=lambda m: None)
    assert not (tmp_path / "state.npz").exists()  # nothing that looks like progress


def test_a_run_whose_weights_blow_up_is_marked_diverged(diverging_problem):
    """Adam at learning rate 1000 'fits' with weights in the thousands: the loss even underflows
    to 0, and nothing of the run can be trusted."""
    params0, x, y, xt, yt = diverging_problem
    blown = train_to_targets(
        params0,
        x,
        y,
        xt,
        yt,
        TrainSettings.with_defaults(learning_rate=1000.0, batch_size=16, max_epochs=20),
        log=lambda m: None,
    )
    assert "weights' norm grew" in divergence(blown.history, params0, blown.final_params)
    normal = train_to_targets(
        params0, x, y, xt, yt, TrainSettings.with_defaults(batch_size=16, max_epochs=20), log=lambda m: None
    )
    assert divergence(normal.history, params0, normal.final_params) is None
    history = normal.history.copy()
    history[5, 1] = 150 * history[0, 1]
    assert "training loss grew" in divergence(history, params0, normal.final_params)


@pytest.fixture()
def tiny_copy(tiny_study, tmp_path):
    """A copy of the finished tiny study (files and Snakemake's metadata) to damage."""
    work = tmp_path / "copy"
    shutil.copytree(tiny_study, work, symlinks=True)
    return work


@pytest.mark.parametrize(
    "victim,planned",
    [
        ("train/correct/h16-16/lr0.001/bs16/independent/n32/seed0/acc1.npz", {"train": 1, "measures": 1}),
        ("subsets/random/seed0/n64.npz", {"make_subset": 1, "train": 1, "measures": 1}),
        ("measures/random/h16-16/lr0.001/bs16/independent/n32/seed0/loss0.json", {"measures": 1}),
        ("init/h16-16/seed0.npz", {"init_weights": 1, "train": 4, "measures": 4}),
    ],
)
def test_deleting_an_intermediate_rebuilds_it_and_only_the_runs_that_read_it(tiny_copy, victim, planned):
    (tiny_copy / "results/tiny" / victim).unlink()
    jobs = planned_jobs(run_snakemake(tiny_copy, "-n", "--cores", "1", configfile=TINY_CONFIG))
    assert {rule: jobs.get(rule, 0) for rule in RUN_RULES} == {rule: planned.get(rule, 0) for rule in RUN_RULES}, jobs


RUN_RULES = ("prepare_data", "init_weights", "make_subset", "train", "measures")


@pytest.mark.parametrize(
    "growth,planned",
    [
        # a size: its subsets, and its run per label mode; every other run stays as it is
        (dict(sizes=[32, 48, 64]), {"make_subset": 2, "train": 2, "measures": 2}),
        # a seed: its initial weights, subsets and runs
        (dict(seeds=[0, 5]), {"init_weights": 1, "make_subset": 4, "train": 4, "measures": 4}),
        # a learning rate: its runs, on the subsets and initial weights there are
        (dict(train={"learning_rate": [0.001, 0.002]}), {"train": 4, "measures": 4}),
    ],
)
def test_a_study_grows_by_exactly_its_new_runs(tiny_copy, growth, planned):
    cfg = write_config(tiny_copy, TINY_CONFIG, **growth)
    proc = run_snakemake(tiny_copy, "-n", "--cores", "1", configfile=cfg)
    jobs = planned_jobs(proc)
    assert {rule: jobs.get(rule, 0) for rule in RUN_RULES} == {rule: planned.get(rule, 0) for rule in RUN_RULES}, jobs
    assert jobs["training_table"] == jobs["measures_table"] == jobs["findings"] == 1  # the tables follow
    # the runs planned are the new ones, never a finished one
    trained = set(re.findall(r"output: results/tiny/train/(\S+)/acc1\.npz", proc.stdout))
    finished = {
        p.parent.relative_to(tiny_copy / "results/tiny/train").as_posix()
        for p in (tiny_copy / "results/tiny/train").rglob("acc1.npz")
    }
    assert len(trained) == planned["train"] and not trained & finished, trained


def refused_run(work, message):
    """A real run of the tiny study that stops, naming ``message``, and rewrites no table."""
    tables = {p: p.read_bytes() for p in (work / "results/tiny/tables").glob("*.csv")}
    proc = run_snakemake(work, "--cores", "1", configfile=TINY_CONFIG, check=False)
    # the refusal is in the failed job's log (Snakemake shows it with --show-failed-logs)
    logs = "".join(p.read_text() for p in (work / "results/tiny/logs").rglob("*.log"))
    out = proc.stdout + proc.stderr + logs
    assert proc.returncode != 0 and re.search(message, out), out[-4000:]
    # no table was rewritten; Snakemake removes the outputs of the job that failed, so a table
    # the refused job would have written is gone, never wrong
    after = {p: p.read_bytes() for p in (work / "results/tiny/tables").glob("*.csv")}
    assert all(tables.get(p) == text for p, text in after.items())


def swap(a, b):
    """Swap two files as `mv` does, then touch both, so that Snakemake reruns what reads them."""
    tmp = a.with_name(a.name + ".swap")
    a.rename(tmp)
    b.rename(a)
    tmp.rename(b)
    for p in (a, b):
        p.touch()


TRAIN = "results/tiny/train/{}/h16-16/lr0.001/bs16/independent/n{}/seed0"
MEASURED = "results/tiny/measures/{}/h16-16/lr0.001/bs16/independent/n{}/seed0"


def test_swapped_subsets_are_refused_by_the_run_that_reads_them(tiny_copy):
    swap(
        tiny_copy / "results/tiny/subsets/correct/seed0/n32.npz",
        tiny_copy / "results/tiny/subsets/correct/seed0/n64.npz",
    )
    refused_run(
        tiny_copy, r"subsets/correct/seed0/n(32|64).npz: holds .*\"n\": (64|32).*but is read as .*\"n\": (32|64)"
    )


def test_swapped_checkpoints_of_two_runs_are_refused(tiny_copy):
    swap(tiny_copy / TRAIN.format("correct", 32) / "loss0.npz", tiny_copy / TRAIN.format("random", 32) / "loss0.npz")
    refused_run(tiny_copy, r"loss0.npz: not the loss0 of results/tiny/train/")


def test_swapped_summaries_are_refused(tiny_copy):
    swap(
        tiny_copy / TRAIN.format("correct", 32) / "summary.json",
        tiny_copy / TRAIN.format("correct", 64) / "summary.json",
    )
    refused_run(tiny_copy, r"summary.json: holds .*\"size\": (64|32).*but is read as .*\"size\": (32|64)")


def test_a_measures_record_of_another_study_or_run_is_refused(tiny_copy):
    target = tiny_copy / MEASURED.format("correct", 32) / "loss0.json"
    other = json.loads(target.read_text()) | {"study": "another"}
    target.write_text(json.dumps(other))
    refused_run(tiny_copy, r"loss0.json: holds .*\"study\": \"another\".*but is read as .*\"study\": \"tiny\"")
    shutil.copy(tiny_copy / MEASURED.format("random", 64) / "loss0.json", target)
    refused_run(tiny_copy, r"loss0.json: holds .*\"random\".*but is read as .*\"correct\"")


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
