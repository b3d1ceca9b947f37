"""The real workflow: DAG shape by dry runs, lint, config errors, and a tiny study end to end."""

import json
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from genstudy.registry import entry
from genstudy.runs import TRAINING_COLUMNS
from helpers import ROOT, TINY_CONFIG, planned_jobs, run_snakemake, write_config

DEFAULT_CONFIG = ROOT / "config.yaml"
TINY = "results/tiny"


def test_default_config_plans_one_train_and_one_measures_job_per_run(tmp_path):
    proc = run_snakemake(tmp_path, "-n", "--cores", "1", configfile=DEFAULT_CONFIG)
    jobs = planned_jobs(proc)
    assert jobs["train"] == jobs["measures"] == 2 * 8 * 3  # label modes × sizes × seeds
    blocks = [b for b in re.split(r"\n\[", proc.stdout) if re.search(r"^(local)?rule (train|measures):", b, re.M)]
    runs = set()
    for block in blocks:  # each job's files are those of one run: one size, one seed, one label mode
        files = re.findall(r"(?:train|measures)/(\w+)/h64-64/lr0.001/bs128/independent/n(\d+)/seed(\d+)/", block)
        assert len(set(files)) == 1, block
        runs.add((re.search(r"rule (\w+):", block).group(1), *files[0]))
    assert len(runs) == 2 * 48
    assert jobs["make_subset"] == 2 * 8 * 3 and jobs["init_weights"] == 3 and jobs["prepare_data"] == 1
    assert not (tmp_path / "results").exists()


def test_one_more_seed_plans_its_16_runs(tmp_path):
    path = write_config(tmp_path, DEFAULT_CONFIG, seeds=[0, 1, 2, 7])
    jobs = planned_jobs(run_snakemake(tmp_path, "-n", "--cores", "1", configfile=path))
    assert jobs["train"] == jobs["measures"] == 48 + 2 * 8


def test_lint_is_clean():
    proc = run_snakemake(ROOT, "--lint", check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_dry_run_does_not_import_tensorflow(tmp_path):
    argv = [
        "snakemake",
        "-n",
        "--cores",
        "1",
        "-s",
        str(ROOT / "Snakefile"),
        "--directory",
        str(tmp_path),
        "--configfile",
        str(DEFAULT_CONFIG),
    ]
    code = (
        f"import sys; sys.argv={argv!r};"
        "from snakemake.cli import main\ntry:\n main()\nexcept SystemExit: pass\n"
        "print('TF_LOADED' if 'tensorflow' in sys.modules else 'TF_ABSENT')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert "TF_ABSENT" in out.stdout and "Job stats" in out.stdout + out.stderr, out.stdout[-2000:] + out.stderr[-2000:]


def test_importing_every_module_of_the_package_leaves_tensorflow_unloaded():
    """genstudy/__init__.py's promise: TensorFlow is imported inside the functions that need it."""
    modules = sorted(p.stem for p in (ROOT / "workflow/scripts/genstudy").glob("*.py") if p.stem != "__init__")
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module('genstudy.' + name)\n"
        "print(len(sys.modules), 'TF_LOADED' if 'tensorflow' in sys.modules else 'TF_ABSENT')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and "TF_ABSENT" in out.stdout, out.stdout[-2000:] + out.stderr[-2000:]
    assert {"training", "curvature", "runtime", "model"} <= set(modules)


def test_jobs_import_tensorflow_without_keras_and_keras_still_imports_after():
    code = (
        f"import sys; sys.path.insert(0, {str(ROOT / 'workflow' / 'scripts')!r});"
        "from genstudy.runtime import configure_tensorflow; tf = configure_tensorflow(1);"
        "print('KERAS_LOADED' if 'keras' in sys.modules else 'KERAS_ABSENT', tf.reduce_sum(tf.ones(3)).numpy());"
        "import keras; print(keras.optimizers.Adam.__name__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.stdout.split() == ["KERAS_ABSENT", "3.0", "Adam"], out.stdout + out.stderr[-2000:]


BAD_CONFIGS = [
    ({"train": {"batch_size": "big"}}, r"batch_size|'big'"),
    ({"unknown_key": 1}, r"unknown_key"),
    ({"sizes": [64, 128], "train": {"batch_size": 128}}, r"sizes: \[64\] smaller than train.batch_size"),
    ({"sizes": [128, 4500]}, r"sizes: \[4500\] larger than the training pool of mnist5k \(4000 examples\)"),
    ({"label_modes": ["correct", "noisy"]}, r"noisy"),
    ({"dataset": "data/does_not_exist.npz"}, r"dataset: file not found: data/does_not_exist.npz"),
    ({"model": {"hidden": [64, -1]}}, r"hidden"),
    ({"model": {"hidden": []}}, r"hidden"),
    ({"study": "../elsewhere"}, r"study"),
    ({"train": {"protocol": "sometimes"}}, r"protocol"),
]


@pytest.mark.parametrize("override,message", BAD_CONFIGS, ids=[str(i) for i in range(len(BAD_CONFIGS))])
def test_bad_config_stops_before_any_work(tmp_path, override, message):
    path = write_config(tmp_path, DEFAULT_CONFIG, **override)
    proc = run_snakemake(tmp_path, "--cores", "1", configfile=path, check=False)
    assert proc.returncode != 0
    assert re.search(message, proc.stdout + proc.stderr), (proc.stdout + proc.stderr)[-3000:]
    assert not (tmp_path / "results").exists()


def test_tiny_study_training_table(tiny_study):
    t = pd.read_csv(tiny_study / TINY / "tables/training.csv", dtype={"hidden": str})
    assert list(t.columns) == list(TRAINING_COLUMNS)
    assert len(t) == 2 * 2 * 1 * 3
    assert set(map(tuple, t[["label_mode", "size", "checkpoint"]].values)) == {
        (m, n, c) for m in ("correct", "random") for n in (32, 64) for c in ("acc1", "ce001", "loss0")
    }
    assert (t.hidden == "16-16").all() and (t.depth == 3).all() and (t.width == 16).all()
    assert (t.n_params == 784 * 16 + 16 + 16 * 16 + 16 + 16 * 10 + 10).all()
    assert (t.learning_rate == 0.001).all() and (t.batch_size == 16).all() and (t.protocol == "independent").all()
    acc1 = t[t.checkpoint == "acc1"]
    assert (acc1.train_acc[acc1.reached] == 1.0).all()
    loss0 = t[t.checkpoint == "loss0"]
    assert (loss0.train_loss[loss0.reached] <= 1e-3).all()
    assert (loss0.epoch[~loss0.reached] == 400).all()
    ce001 = t[t.checkpoint == "ce001"]
    assert (ce001.train_loss[ce001.reached] <= 0.01).all() and (ce001.epoch <= loss0.epoch.to_numpy()).all()
    assert np.allclose(t.gen_gap, t.train_acc - t.test_acc) and not t.diverged.any()
    assert (t.updates == t.epoch * t["size"] // 16).all()
    # every row points at its files, and they agree with it
    for row in t.itertuples():
        with np.load(tiny_study / row.checkpoint_file) as f:
            W = [f[f"W{i}"].astype(np.float64) for i in (1, 2, 3)]
            assert int(f["epoch"]) == row.epoch and bool(f["reached"]) == row.reached
        assert row.l2_seed == pytest.approx(4 * np.prod([np.sum(w**2) for w in W]))
        with np.load(tiny_study / row.subset_file) as s:
            assert len(s["y"]) == row.size
        run_dir = (tiny_study / row.checkpoint_file).parent
        hist = pd.read_csv(run_dir / "history.csv").set_index("epoch")
        assert row.test_acc == hist.loc[row.epoch, "test_acc"]
        summary = json.loads((run_dir / "summary.json").read_text())
        assert summary["run"] == {
            "label_mode": row.label_mode,
            "hidden": [16, 16],
            "learning_rate": 0.001,
            "batch_size": 16,
            "protocol": "independent",
            "size": row.size,
            "seed": 0,
        }


def test_tiny_study_file_contract(tiny_study):
    r = tiny_study / TINY
    with np.load(r / "subsets/random/seed0/n64.npz") as f:
        assert f["x"].shape == (64, 784) and f["x"].dtype == np.float32
        assert f["y"].shape == f["y_true"].shape == f["index"].shape == (64,)
    with np.load(r / "subsets/random/seed0/n32.npz") as small, np.load(r / "subsets/correct/seed0/n64.npz") as c:
        assert np.array_equal(small["index"], c["index"][:32])
    run = r / "train/correct/h16-16/lr0.001/bs16/independent/n32/seed0"
    with np.load(r / "init/h16-16/seed0.npz") as init, np.load(run / "final.npz") as fin:
        assert set(init.files) >= {"W1", "b1", "W2", "b2", "W3", "b3", "epoch"}
        assert not np.array_equal(init["W1"], fin["W1"])
    with np.load(run / "optimizer.npz") as opt:
        assert int(opt["step"]) == int(json.loads((run / "summary.json").read_text())["final_epoch"]) * 2
        assert opt["m_W1"].shape == (784, 16) and np.any(opt["v_W3"] > 0)
    assert not (r / "resume").exists() or not any((r / "resume").rglob("*.npz"))


# the families drawn, each in a figure against n and one against every other axis
PLOTTED = ("norm", "margin-normalised", "curvature", "flatness", "sensitivity", "optimisation")


def test_tiny_study_figures(tiny_study):
    figures = tiny_study / TINY / "figures"
    names = {p.stem for p in figures.glob("*.png")}
    assert names == {
        "training_acc1_label_modes",
        "training_ce001_label_modes",
        "training_loss0_label_modes",
        "training_correct_checkpoints",
        "training_random_checkpoints",
        *(f"measures_{f}" for f in PLOTTED),
        "hessian_density",
        "ranking",
        "robust_sign_error",
        *(f"against_label_mode_{f}" for f in PLOTTED),
    }
    for png in figures.glob("*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000


def test_tiny_study_measures(tiny_study):
    r = tiny_study / TINY
    m = pd.read_csv(r / "tables/measures.csv", dtype={"hidden": str})
    t = pd.read_csv(r / "tables/training.csv", dtype={"hidden": str})
    pd.testing.assert_frame_equal(m[t.columns], t)
    extra = [c for c in m.columns if c not in t.columns]
    for c in extra:
        entry(c)  # every column is declared in the registry
    for col in [
        "fro_1",
        "spec_3",
        "margin",
        "inverse_margin",
        "l2_margin",
        "spec_margin",
        "l1_path_margin",
        "l2_path_margin",
        "dist_init",
        "hessian_eig_1",
        "hessian_eig_3",
        "hessian_trace",
        "hessian_trace_hutchinson",
        "hessian_trace_hutchinson_se",
        "sharpness",
        "pacbayes_flatness",
        "pacbayes_mag_flatness",
        "jacobian_fro",
        "baseline_label_noise",
        "baseline_inverse_m",
        "baseline_updates",
        "l2_margin_adj",
        "hessian_trace_adj",
        "baseline_updates_adj",
    ]:
        assert col in m.columns, col
    assert not any(c in m.columns for c in ("margin_adj", "fro_1_adj", "hessian_eig_2_adj"))  # diagnostics: no form
    np.testing.assert_allclose(m.inverse_margin, 1 / m.margin**2)
    np.testing.assert_allclose(m.hessian_trace_adj, np.sqrt(m.hessian_trace / m["size"]))
    np.testing.assert_allclose(m.l2_margin_adj, 0.5 * (np.log(m.l2_margin) - np.log(m["size"])))
    assert (m.baseline_label_noise == (m.label_mode == "random").astype(float)).all()
    assert np.allclose(m.baseline_inverse_m, 1 / m["size"]) and (m.baseline_updates == m.updates).all()
    assert (m.hessian_eig_1 >= m.hessian_eig_2).all() and (m.hessian_eig_2 >= m.hessian_eig_3).all()
    assert (m.sharpness >= 0).all() and (m.dist_init > 0).all()
    doc = json.loads((r / "measures/random/h16-16/lr0.001/bs16/independent/n64/seed0/loss0.json").read_text())
    assert doc["checkpoint"] == "loss0" and doc["run"]["size"] == 64 and doc["run"]["label_mode"] == "random"
    with np.load(r / "measures/correct/h16-16/lr0.001/bs16/independent/n64/seed0/loss0_density.npz") as f:
        np.testing.assert_allclose(f["weights"].sum(axis=1), 1.0)


def test_tiny_study_ranking_tables(tiny_study):
    r = tiny_study / TINY
    tau = pd.read_csv(r / "tables/rank_correlation.csv")
    assert list(tau.columns) == ["measure", "form", "scope", "tau", "p_value", "n", "left_out"]
    assert set(tau.scope) == {"all", "checkpoint=acc1", "checkpoint=ce001", "checkpoint=loss0"} | {
        f"label_mode={m},checkpoint={c}" for m in ("correct", "random") for c in ("acc1", "ce001", "loss0")
    }
    assert set(tau.form) == {"raw", "adjusted"} and tau.tau.dropna().between(-1, 1).all()
    assert {"baseline_label_noise", "baseline_inverse_m", "baseline_updates", "inverse_margin"} <= set(tau.measure)
    assert not {"margin", "hessian_trace_hutchinson_se", "fro_1"} & set(tau.measure)  # diagnostics are not ranked
    m = pd.read_csv(r / "tables/measures.csv")
    scope_all = tau[(tau.scope == "all")]
    assert (scope_all.n + scope_all.left_out == len(m)).all()
    psi = pd.read_csv(r / "tables/granulated_kendall.csv")
    assert list(psi.columns) == ["measure", "form", "checkpoint", "axis", "value", "n_slices"]
    assert set(psi.axis) == {"size", "label_mode", "Psi", "CMI", "CMI_pgdl"}
    intervals = pd.read_csv(r / "tables/ranking_intervals.csv")
    assert set(intervals.criterion) == {"tau", "tau_between_sizes", "psi_size", "psi_label_mode", "Psi", "CMI"}
    assert intervals.ci_low.isna().all()  # one seed: nothing to resample, no interval
    joined = intervals[intervals.criterion == "tau"].merge(tau, on=["measure", "form", "scope"])
    np.testing.assert_allclose(joined.value, joined.tau, equal_nan=True)  # the same τ-b as scipy's
    differences = pd.read_csv(r / "tables/paired_differences.csv")
    assert (differences.verdict == "unresolved (no interval)").all()
    sign = pd.read_csv(r / "tables/robust_sign_error.csv")
    assert set(sign.axis) == {"all", "size", "label_mode"} and sign[["mean", "worst"]].notna().any().all()
    assert sign[["mean", "worst"]].stack().dropna().between(0, 1).all()
    findings = (r / "findings.md").read_text()
    assert "# Findings of the study `tiny`" in findings and "config sha256" in findings
    assert "**winner" not in findings  # one seed resolves nothing
    assert "with one seed there is no interval" in findings and "0 other column(s)" not in findings


def test_tiny_study_rerun_does_nothing(tiny_study):
    proc = run_snakemake(tiny_study, "--cores", "1", configfile=TINY_CONFIG)
    assert "Nothing to be done" in proc.stdout + proc.stderr


def test_tiny_study_report_holds_every_figure_and_table(tiny_study):
    run_snakemake(tiny_study, "--cores", "1", "--report", f"{TINY}/report.html", configfile=TINY_CONFIG)
    html = (tiny_study / TINY / "report.html").read_text(errors="replace")
    for png in (tiny_study / TINY / "figures").glob("*.png"):
        assert png.name in html, png.name
    for table in ("training", "measures", "rank_correlation", "granulated_kendall"):
        assert f"filename={table}.html" in html, table  # shown in the page, not only downloadable
    assert "Why do neural networks generalize?" in html and "tiny" in html


def every_measure_filled(work, study):
    m = pd.read_csv(work / f"results/{study}/tables/measures.csv", dtype={"hidden": str})
    assert m.reached.all(), m[["label_mode", "size", "checkpoint", "reached"]]
    ranked = [c for c in m.columns if c not in TRAINING_COLUMNS and entry(c).ranked]
    assert ranked and not m[ranked].isna().any().any(), m[ranked].isna().sum()
    return m


@pytest.mark.slow
@pytest.mark.parametrize("hidden", [[32], [16, 16, 16]], ids=["depth2", "depth4"])
def test_any_depth_runs_end_to_end_with_every_measure(tmp_path, hidden):
    path = write_config(
        tmp_path, TINY_CONFIG, sizes=[48], label_modes=["correct"], model={"hidden": hidden}, study="depth"
    )
    run_snakemake(tmp_path, "--cores", "2", configfile=path)
    m = every_measure_filled(tmp_path, "depth")
    depth = len(hidden) + 1
    assert {f"fro_{i}" for i in range(1, depth + 1)} <= set(m.columns) and f"fro_{depth + 1}" not in m.columns
    with np.load(tmp_path / m.checkpoint_file.iloc[0]) as f:
        assert [f[f"W{i}"].shape for i in range(1, depth + 1)] == list(zip([784] + hidden, hidden + [10]))


@pytest.mark.slow
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
    path = write_config(
        tmp_path,
        TINY_CONFIG,
        dataset=str(data),
        test_size=30,
        sizes=[48],
        label_modes=["correct"],
        model={"hidden": [16, 16, 16]},
        study="stripes",
    )
    run_snakemake(tmp_path, "--cores", "2", configfile=path)
    m = every_measure_filled(tmp_path, "stripes")
    with np.load(tmp_path / m.checkpoint_file.iloc[0]) as f:
        assert f["W1"].shape == (32 * 32 * 3, 16) and f["W4"].shape == (16, 3)
    info = json.loads((tmp_path / "results/stripes/data/dataset.json").read_text())
    assert info["n_classes"] == 3 and info["image_shape"] == [32, 32, 3]


def test_every_table_row_s_test_metrics_are_its_checkpoint_s_on_the_test_set(tiny_study):
    from genstudy.model import cross_entropy, logits

    t = pd.read_csv(tiny_study / TINY / "tables/training.csv", dtype={"hidden": str})
    with np.load(tiny_study / TINY / "data/test.npz") as f:
        x, y = f["x"], f["y"]
    for row in t.itertuples():
        with np.load(tiny_study / row.checkpoint_file) as f:
            params = {k: f[k] for k in ("W1", "b1", "W2", "b2", "W3", "b3")}
        z = logits(params, x, np.float64)
        assert row.test_acc == pytest.approx(np.mean(z.argmax(1) == y))
        assert row.test_loss == pytest.approx(cross_entropy(z, y).mean(), rel=1e-4)


def test_a_partial_config_without_a_study_is_named_after_its_file(tmp_path):
    path = tmp_path / "fewer_sizes.yaml"
    path.write_text("sizes: [128, 256]\nseeds: [0]\n")
    out = run_snakemake(tmp_path, "-n", "--cores", "1", configfile=path).stdout
    assert "results/fewer_sizes/train/" in out and "results/default/" not in out
    named = tmp_path / "named.yaml"
    named.write_text("study: mine\nsizes: [128]\nseeds: [0]\n")
    assert "results/mine/train/" in run_snakemake(tmp_path, "-n", "--cores", "1", configfile=named).stdout
