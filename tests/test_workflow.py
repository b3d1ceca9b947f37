"""The real workflow: DAG shape by dry runs, lint, config errors, and a tiny study end to end."""
import json
import re
import shutil

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import ROOT, TINY_CONFIG, run_snakemake

DEFAULT_CONFIG = ROOT / "config.yaml"


def planned_jobs(proc_output: str) -> dict:
    stats = proc_output.split("Job stats:")[1].split("\n\n")[0]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)$", stats, re.M)}


def test_default_config_plans_48_training_jobs(tmp_path):
    proc = run_snakemake(tmp_path, "-n", "--cores", "1", configfile=DEFAULT_CONFIG)
    jobs = planned_jobs(proc.stdout + proc.stderr)
    assert jobs["train"] == 2 * 8 * 3
    assert jobs["measures"] == 2 * 3  # one per (label mode, seed), over all sizes
    assert jobs["make_subsets"] == 2 * 3 and jobs["init_weights"] == 3 and jobs["prepare_data"] == 1
    assert not (tmp_path / "results").exists()


def test_one_more_seed_plans_16_more_training_jobs(tmp_path):
    cfg = yaml.safe_load(DEFAULT_CONFIG.read_text())
    cfg["seeds"] = cfg["seeds"] + [7]
    path = tmp_path / "more_seeds.yaml"
    path.write_text(yaml.safe_dump(cfg))
    proc = run_snakemake(tmp_path, "-n", "--cores", "1", configfile=path)
    assert planned_jobs(proc.stdout + proc.stderr)["train"] == 48 + 16


def test_lint_is_clean():
    proc = run_snakemake(ROOT, "--lint", check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_dry_run_does_not_import_tensorflow(tmp_path):
    proc = run_snakemake(tmp_path, "-n", "--cores", "1", "--verbose", configfile=DEFAULT_CONFIG)
    assert "tensorflow" not in (proc.stdout + proc.stderr).lower()
    import subprocess
    import sys

    code = ("import sys, runpy; sys.argv=['snakemake','-n','--cores','1','-s',%r,'--directory',%r,'--configfile',%r];"
            "from snakemake.cli import main\ntry:\n main()\nexcept SystemExit: pass\n"
            "print('TF_LOADED' if 'tensorflow' in sys.modules else 'TF_ABSENT')") % (
        str(ROOT / "Snakefile"), str(tmp_path), str(DEFAULT_CONFIG))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert "TF_ABSENT" in out.stdout, out.stdout[-2000:] + out.stderr[-2000:]


BAD_CONFIGS = [
    ({"train": {"batch_size": "big"}}, r"batch_size|'big' is not of type 'integer'"),
    ({"unknown_key": 1}, r"unknown_key"),
    ({"sizes": [64, 128], "train": {"batch_size": 128}}, r"sizes: \[64\] smaller than train.batch_size"),
    ({"sizes": [128, 4500]}, r"sizes: \[4500\] larger than the training pool of mnist5k \(4000 examples\)"),
    ({"label_modes": ["correct", "noisy"]}, r"noisy"),
    ({"dataset": "data/does_not_exist.npz"}, r"dataset: file not found: data/does_not_exist.npz"),
    ({"model": {"hidden": [64, -1]}}, r"hidden|-1"),
    ({"model": {"hidden": []}}, r"hidden|should be non-empty"),
]


@pytest.mark.parametrize("override,message", BAD_CONFIGS, ids=[str(i) for i in range(len(BAD_CONFIGS))])
def test_bad_config_stops_before_any_work(tmp_path, override, message):
    cfg = yaml.safe_load(DEFAULT_CONFIG.read_text())
    for k, v in override.items():
        cfg[k] = {**cfg[k], **v} if isinstance(v, dict) and isinstance(cfg.get(k), dict) else v
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(cfg))
    proc = run_snakemake(tmp_path, "--cores", "1", configfile=path, check=False)
    assert proc.returncode != 0
    assert re.search(message, proc.stdout + proc.stderr), (proc.stdout + proc.stderr)[-3000:]
    assert not (tmp_path / "results").exists()


def test_tiny_study_training_table(tiny_study):
    t = pd.read_csv(tiny_study / "results/tables/training.csv")
    assert list(t.columns) == ["label_mode", "size", "seed", "checkpoint", "reached", "epoch", "updates",
                               "train_loss", "train_acc", "test_loss", "test_acc", "gen_gap", "l2_seed"]
    assert len(t) == 2 * 2 * 1 * 2
    assert set(map(tuple, t[["label_mode", "size", "checkpoint"]].values)) == {
        (m, n, c) for m in ("correct", "random") for n in (32, 64) for c in ("acc1", "loss0")}
    acc1 = t[t.checkpoint == "acc1"]
    assert (acc1.train_acc[acc1.reached] == 1.0).all()
    loss0 = t[t.checkpoint == "loss0"]
    assert (loss0.train_loss[loss0.reached] <= 1e-3).all()
    assert (loss0.epoch[~loss0.reached] == 400).all()
    assert np.allclose(t.gen_gap, t.train_acc - t.test_acc)
    assert (t.updates == t.epoch * t["size"] // 16).all()
    # the table agrees with the run's own files
    run = tiny_study / "results/train/correct/n64/seed0"
    summary = json.loads((run / "summary.json").read_text())
    hist = pd.read_csv(run / "history.csv")
    row = t[(t.label_mode == "correct") & (t["size"] == 64) & (t.checkpoint == "acc1")].iloc[0]
    assert row.epoch == summary["acc1"]["epoch"]
    assert row.test_acc == hist.set_index("epoch").loc[row.epoch, "test_acc"]
    with np.load(run / "acc1.npz") as f:
        W = [f[f"W{i}"] for i in (1, 2, 3)]
        assert f["W1"].shape == (784, 16) and f["W3"].shape == (16, 10) and int(f["epoch"]) == row.epoch
    assert row.l2_seed == pytest.approx(4 * np.prod([np.sum(w.astype(np.float64) ** 2) for w in W]))


def test_tiny_study_file_contract(tiny_study):
    r = tiny_study / "results"
    with np.load(r / "subsets/random/seed0/n64.npz") as f:
        assert f["x"].shape == (64, 784) and f["x"].dtype == np.float32
        assert f["y"].shape == f["y_true"].shape == f["index"].shape == (64,)
    with np.load(r / "subsets/random/seed0/n32.npz") as small, np.load(r / "subsets/correct/seed0/n64.npz") as c:
        assert np.array_equal(small["index"], c["index"][:32])
    with np.load(r / "init/seed0.npz") as init, np.load(r / "train/correct/n32/seed0/final.npz") as fin:
        assert set(init.files) >= {"W1", "b1", "W2", "b2", "W3", "b3", "epoch"}
        assert not np.array_equal(init["W1"], fin["W1"])
    for name in ("training_acc1_label_modes", "training_loss0_label_modes", "training_correct_checkpoints",
                 "training_random_checkpoints", "measures_acc1_label_modes", "measures_loss0_label_modes",
                 "rank_correlation", "hessian_density"):
        png = r / "figures" / f"{name}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    assert not (r / "resume").exists() or not any((r / "resume").rglob("*.npz"))


def test_tiny_study_measures(tiny_study):
    r = tiny_study / "results"
    m = pd.read_csv(r / "tables/measures.csv")
    t = pd.read_csv(r / "tables/training.csv")
    pd.testing.assert_frame_equal(m[t.columns], t)
    for col in ["fro_1", "spec_3", "margin", "l2_margin", "spec_margin", "l1_path_margin", "l2_path_margin",
                "dist_init", "hessian_eig_1", "hessian_eig_3", "hessian_trace", "hessian_trace_se", "sharpness",
                "pacbayes_flatness", "jacobian_fro"]:
        assert col in m.columns
    assert (m.hessian_eig_1 >= m.hessian_eig_2).all() and (m.hessian_eig_2 >= m.hessian_eig_3).all()
    assert (m.sharpness >= 0).all() and (m.dist_init > 0).all()
    doc = json.loads((r / "measures/random/n64/seed0/loss0.json").read_text())
    assert doc["checkpoint"] == "loss0" and set(doc["measures"]) >= {"hessian_trace", "l2_margin"}
    with np.load(r / "measures/correct/n64/seed0/loss0_density.npz") as f:
        np.testing.assert_allclose(f["weights"].sum(axis=1), 1.0)
    tau = pd.read_csv(r / "tables/rank_correlation.csv")
    assert list(tau.columns) == ["measure", "runs", "tau", "p_value", "n"]
    assert set(tau.runs) == {"all", "acc1", "loss0"}
    assert tau.tau.dropna().between(-1, 1).all()


def test_tiny_study_rerun_does_nothing(tiny_study):
    proc = run_snakemake(tiny_study, "--cores", "1", configfile=TINY_CONFIG)
    assert "Nothing to be done" in proc.stdout + proc.stderr


def test_tiny_study_report_holds_every_figure(tiny_study):
    run_snakemake(tiny_study, "--cores", "1", "--report", "results/report.html", configfile=TINY_CONFIG)
    html = (tiny_study / "results/report.html").read_text(errors="replace")
    for png in (tiny_study / "results/figures").glob("*.png"):
        assert png.name in html, png.name
    for csv in ("training.csv", "measures.csv", "rank_correlation.csv"):
        assert csv in html


def every_measure_filled(work):
    m = pd.read_csv(work / "results/tables/measures.csv")
    t = pd.read_csv(work / "results/tables/training.csv")
    assert m.reached.all(), m[["label_mode", "size", "checkpoint", "reached"]]
    measure_cols = [c for c in m.columns if c not in t.columns]
    assert measure_cols and not m[measure_cols].isna().any().any(), m[measure_cols].isna().sum()
    return m


@pytest.mark.parametrize("hidden", [[32], [16, 16, 16]], ids=["depth2", "depth4"])
def test_any_depth_runs_end_to_end_with_every_measure(tmp_path, hidden):
    cfg = yaml.safe_load(TINY_CONFIG.read_text())
    cfg.update(sizes=[48], label_modes=["correct"], model={"hidden": hidden})
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(cfg))
    run_snakemake(tmp_path, "--cores", "2", configfile=path)
    m = every_measure_filled(tmp_path)
    depth = len(hidden) + 1
    assert {f"fro_{i}" for i in range(1, depth + 1)} <= set(m.columns) and f"fro_{depth + 1}" not in m.columns
    with np.load(tmp_path / "results/train/correct/n48/seed0/loss0.npz") as f:
        assert [f[f"W{i}"].shape for i in range(1, depth + 1)] == list(zip([784] + hidden, hidden + [10]))


def test_colour_images_with_three_classes_run_end_to_end(tmp_path):
    rng = np.random.default_rng(0)

    def images(n):
        y = np.arange(n) % 3
        x = rng.integers(0, 60, (n, 32, 32, 3)).astype(np.uint8)
        x[np.arange(n), 4 + 8 * y, 4:28, y] = 255  # one bright stripe per class, in its own channel
        return x, y

    x_tr, y_tr = images(150)
    x_te, y_te = images(60)
    data = tmp_path / "stripes.npz"
    np.savez(data, x_train=x_tr, y_train=y_tr, x_test=x_te, y_test=y_te)
    cfg = yaml.safe_load(TINY_CONFIG.read_text())
    cfg.update(dataset=str(data), test_size=30, sizes=[48], label_modes=["correct"], model={"hidden": [16, 16, 16]})
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(cfg))
    run_snakemake(tmp_path, "--cores", "2", configfile=path)
    every_measure_filled(tmp_path)
    with np.load(tmp_path / "results/train/correct/n48/seed0/acc1.npz") as f:
        assert f["W1"].shape == (32 * 32 * 3, 16) and f["W4"].shape == (16, 3)
    info = json.loads((tmp_path / "results/data/dataset.json").read_text())
    assert info["n_classes"] == 3 and info["image_shape"] == [32, 32, 3]
