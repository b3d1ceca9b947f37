"""What the workflow checks before it writes anything (docs/checks.md): studies never overwrite
each other or the project's folders, a config is its own file plus the schema's defaults, read
strictly, and settings that would make a study degenerate are refused."""

import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import yaml

from genstudy.config import ConfigError, read_config_file
from genstudy.data import DatasetError, load_dataset
from helpers import ROOT, TINY_CONFIG, run_snakemake, write_config

DEFAULT_CONFIG = ROOT / "config.yaml"


def refused(workdir, configfile, message, *args):
    """A dry run that stops with one clear line naming ``message``, and writes nothing."""
    before = sorted((workdir / "results").rglob("*")) if (workdir / "results").exists() else []
    proc = run_snakemake(workdir, "-n", "--cores", "1", *args, configfile=configfile, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "Invalid configuration" in out, out[-3000:]
    assert "Traceback" not in out.split("Invalid configuration")[-1], out[-3000:]
    assert __import__("re").search(message, out), out[-3000:]
    assert (sorted((workdir / "results").rglob("*")) if (workdir / "results").exists() else []) == before
    return out


def test_a_key_given_twice_is_refused_naming_both_lines(tmp_path):
    path = tmp_path / "twice.yaml"
    path.write_text("study: twice\ntrain:\n  max_epochs: 200\n  batch_size: 32\n  max_epochs: 5\n")
    with pytest.raises(ConfigError, match=r"twice.yaml, line 5.*'max_epochs' is given twice, on lines 3 and 5"):
        read_config_file(path)
    refused(tmp_path, path, r"'max_epochs' is given twice, on lines 3 and 5")
    checker = subprocess.run(
        [sys.executable, str(ROOT / "tools/check_config_file.py"), str(path)], capture_output=True, text=True
    )
    assert checker.returncode == 1 and "given twice" in checker.stderr


@pytest.mark.parametrize(
    "study,message",
    [("benchmarks", r"study: 'benchmarks' is a folder of the project"), ("x" * 300, r"300 characters; at most 100")],
)
def test_a_study_may_not_write_into_the_project_s_folders_or_under_an_overlong_name(tmp_path, study, message):
    refused(tmp_path, write_config(tmp_path, DEFAULT_CONFIG, study=study), message)
    # named after its file, the same holds
    (tmp_path / "benchmarks.yaml").write_text("sizes: [128]\n")
    if study == "benchmarks":
        refused(tmp_path, tmp_path / "benchmarks.yaml", message)


def test_two_config_files_of_one_name_do_not_share_a_study(tmp_path):
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "exp.yaml").write_text("sizes: [128]\nseeds: [0]\nlabel_modes: [correct]\n")
    # a real (cheap) job, so the study is started: its folder records where it came from
    run_snakemake(tmp_path, "--cores", "1", "results/exp/data/dataset.json", configfile=tmp_path / "a/exp.yaml")
    refused(tmp_path, tmp_path / "b/exp.yaml", r"b/exp.yaml names no study.*holds the study of .*a/exp.yaml")
    run_snakemake(tmp_path, "-n", "--cores", "1", configfile=tmp_path / "a/exp.yaml")  # its own study: fine
    named = tmp_path / "b/exp.yaml"
    named.write_text("study: exp_b\n" + named.read_text())
    run_snakemake(tmp_path, "-n", "--cores", "1", configfile=named)  # a study of its own: fine


def test_keys_a_study_leaves_out_come_from_the_schema_not_from_the_default_study(tmp_path):
    write_config(tmp_path, DEFAULT_CONFIG, test_size=333)  # an edited config.yaml in the working directory
    mine = tmp_path / "mine.yaml"
    mine.write_text("sizes: [128]\nseeds: [0]\nlabel_modes: [correct]\n")
    run_snakemake(tmp_path, "--cores", "1", "results/mine/data/test.npz", configfile=mine)
    with np.load(tmp_path / "results/mine/data/test.npz") as test:
        assert len(test["y"]) == 1000  # the schema's test_size, not config.yaml's 333


@pytest.mark.parametrize(
    "train,message",
    [
        ({"target_loss": 10}, r"train.target_loss: 10 is above the ce001 checkpoint's loss \(0.01\)"),
        ({"chunk_epochs": 10**9}, r"train.chunk_epochs: 1000000000 epochs in one compiled call; at most 100,000"),
    ],
)
def test_training_settings_that_make_the_checkpoints_inconsistent_or_cannot_fit_are_refused(tmp_path, train, message):
    refused(tmp_path, write_config(tmp_path, DEFAULT_CONFIG, train=train), message)


def test_a_dataset_of_one_class_is_refused_naming_the_file(tmp_path):
    x = np.random.default_rng(0).integers(0, 256, (60, 8, 8)).astype(np.uint8)
    path = tmp_path / "one.npz"
    np.savez(path, x_train=x, y_train=np.full(60, 3), x_test=x[:10], y_test=np.full(10, 3))
    with pytest.raises(DatasetError, match=rf"{path}: y_train: every label is 3; a study needs at least two classes"):
        load_dataset(str(path))


def make_in_copy(tmp_path, *args):
    """`make ARGS` in a copy of the repository's Makefile and tools (the venv linked), so that
    what a target removes is the copy's."""
    if not (tmp_path / "Makefile").exists():
        for name in ("Makefile", "requirements.lock", "pyproject.toml"):
            shutil.copy2(ROOT / name, tmp_path / name)  # keeps their times: no reinstall
        for name in ("tools", "workflow"):
            shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
        (tmp_path / ".venv").symlink_to(ROOT / ".venv")
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "CONFIG")}
    return subprocess.run(["make", *args], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=120)


@pytest.mark.skipif(not shutil.which("make") or not (ROOT / ".venv/bin/python").exists(), reason="needs make and .venv")
def test_make_clean_removes_only_the_study_of_config_and_clean_all_never_the_benchmarks(tmp_path):
    for study in ("default", "other", "benchmarks"):
        (tmp_path / "results" / study).mkdir(parents=True)
        (tmp_path / "results" / study / "kept.csv").write_text("x\n")
    (tmp_path / "other study.yaml").write_text(yaml.safe_dump({"study": "other"}))
    proc = make_in_copy(tmp_path, "clean", "CONFIG=other study.yaml")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert sorted(p.name for p in (tmp_path / "results").iterdir()) == ["benchmarks", "default"]
    proc = make_in_copy(tmp_path, "clean", "CONFIG=missing.yaml")
    assert proc.returncode != 0 and "missing.yaml: config file not found" in proc.stderr
    assert "Traceback" not in proc.stderr and (tmp_path / "results/default").exists()
    proc = make_in_copy(tmp_path, "clean-all")
    assert proc.returncode == 0 and "not results/benchmarks/" in proc.stdout, proc.stdout + proc.stderr
    assert [p.name for p in (tmp_path / "results").iterdir()] == ["benchmarks"]
    assert (tmp_path / "results/benchmarks/kept.csv").exists()


@pytest.mark.skipif(not shutil.which("make"), reason="needs make")
def test_a_report_that_cannot_be_written_leaves_the_previous_one(tiny_study, tmp_path):
    work = tmp_path / "copy"
    shutil.copytree(tiny_study, work, symlinks=True)
    for name in ("Snakefile", "profiles", "workflow", "tools", "requirements.lock", "Makefile"):
        (work / name).symlink_to(ROOT / name)
    report = work / "results/tiny/report.html"
    report.write_text("<html>the previous report</html>")
    before = report.read_bytes()
    proc = subprocess.run(
        f'ulimit -f 64 && make report CONFIG="{TINY_CONFIG}" VENV="{ROOT}/.venv"',
        shell=True,
        cwd=work,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode != 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert report.read_bytes() == before  # the previous report, whole
    assert not list(work.glob("results/tiny/.report.tmp*"))


def test_a_checkpoint_no_run_reached_is_named_in_a_warning(tmp_path):
    from genstudy.study import unreached_warning

    table = tmp_path / "training.csv"
    rows = [("correct", "acc1", True, False), ("correct", "loss0", False, False), ("random", "acc1", True, False)]
    rows += [("random", "loss0", True, True)]  # reached, but diverged: not a run to rank
    table.write_text("label_mode,checkpoint,reached,diverged\n" + "".join(f"{m},{c},{r},{d}\n" for m, c, r, d in rows))
    warning = unreached_warning(table)
    assert warning.startswith("Warning: no run of 2 reached loss0 (without diverging)") and "max_epochs" in warning
    table.write_text("label_mode,checkpoint,reached,diverged\ncorrect,acc1,True,False\n")
    assert unreached_warning(table) is None and unreached_warning(tmp_path / "missing.csv") is None


@pytest.mark.slow
def test_a_study_that_reaches_no_checkpoint_ends_with_a_warning(tmp_path):
    cfg = write_config(
        tmp_path, TINY_CONFIG, study="short", sizes=[32], label_modes=["random"], train={"max_epochs": 2}
    )
    proc = run_snakemake(tmp_path, "--cores", "2", configfile=cfg)
    assert "Warning: no run of 1 reached acc1, ce001, loss0" in proc.stdout + proc.stderr
    findings = (tmp_path / "results" / "short" / "findings.md").read_text()
    assert "0 of 1 runs reached acc1 without diverging (1 stopped at train.max_epochs = 2" in findings
    assert findings.count("Fewer than two runs to compare") == 3 and "no measure has a value" not in findings


@pytest.mark.parametrize(
    "override,message",
    [
        (
            {"train": {"learning_rate": 0}},
            r"train.learning_rate: 0 is less than or equal to the minimum of 0 \(allowed: ",
        ),
        ({"train": {"batch_size": 0}}, r"train.batch_size: 0 is less than the minimum of 1 \(allowed: mini-batch size"),
        ({"train": {"batch_size": 32.5}}, r"train.batch_size: .*32.5 is not of type 'integer'"),
        ({"model": {"hidden": []}}, r"model.hidden: \[\] should be non-empty \(allowed: one architecture"),
        ({"model": {"hidden": [0, 16]}}, r"model.hidden.0: 0 is less than the minimum of 1"),
        ({"model": {"hidden": [[16], [16]]}}, r"model.hidden: \[\[16\], \[16\]\] lists \[16\] twice"),
        ({"sizes": [128, 128]}, r"sizes: \[128, 128\] lists 128 twice"),
    ],
)
def test_a_value_the_schema_refuses_is_named_with_its_key_and_what_is_allowed(tmp_path, override, message):
    out = refused(tmp_path, write_config(tmp_path, DEFAULT_CONFIG, **override), message)
    assert "not valid under any of the given schemas" not in out


def test_a_huge_label_is_named_as_such_not_as_the_network_s_memory(tmp_path):
    x = np.random.default_rng(0).integers(0, 256, (60, 8, 8)).astype(np.uint8)
    y = np.arange(60) % 3
    y[5] = 1_000_000
    path = tmp_path / "labels.npz"
    np.savez(path, x_train=x, y_train=y, x_test=x[:10], y_test=np.arange(10) % 3)
    cfg = write_config(tmp_path, DEFAULT_CONFIG, dataset=str(path), sizes=[32], test_size=10, train={"batch_size": 16})
    out = refused(tmp_path, cfg, rf"dataset: {path} has labels up to 1000000, so the output layer would have 1,000,001")
    assert "model.hidden" not in out.split("Invalid configuration")[-1]
