"""The file layer of a run and the tables, on synthetic runs: what is written is what is read."""

import json
import math

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import ROOT, tiny_params
from genstudy.arrays import FileContractError, save_json
from genstudy.config import ConfigError, check_config, dataset_shape
from genstudy.identity import run_identity
from genstudy.resources import job_resources
from genstudy.runs import TRAINING_COLUMNS, read_history, run_rows, write_training_outputs
from genstudy.tables import ROW_KEYS, html_view, join_measures, read_measure_records
from genstudy.training import TrainResult, TrainSettings

DEFAULT = yaml.safe_load((ROOT / "config.yaml").read_text())
SCHEMA = yaml.safe_load((ROOT / "workflow/schemas/config.schema.yaml").read_text())


def fake_run(tmp_path, label_mode="correct", size=32, reached_loss0=True):
    """A run's files written by write_training_outputs from a hand-made result."""
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
    run = {
        "label_mode": label_mode,
        "hidden": [4],
        "learning_rate": 0.001,
        "batch_size": 16,
        "protocol": "independent",
        "size": size,
        "seed": 0,
    }
    settings = TrainSettings.with_defaults(target_loss=0.1, max_epochs=3)
    write_training_outputs(result, settings, outputs, run, "subsets/x.npz", p0, log=lambda m: None, study="t")
    return run_dir, p0, p1, history


def test_a_run_s_files_round_trip_into_table_rows(tmp_path):
    run_dir, p0, p1, history = fake_run(tmp_path)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["acc1"] == {"reached": True, "epoch": 2} and summary["loss0"] == {"reached": True, "epoch": 3}
    assert summary["final_epoch"] == 3 and summary["diverged"] is False and summary["subset_file"] == "subsets/x.npz"
    assert list(read_history(run_dir / "history.csv")) == [0, 1, 2, 3]
    rows = run_rows(run_dir, n_inputs=6, n_classes=3)
    assert [r["checkpoint"] for r in rows] == ["acc1", "ce001", "loss0"]
    acc1, ce001, loss0 = rows
    assert ce001["reached"] is False and ce001["epoch"] == 3  # not reached: the final weights
    assert set(acc1) == set(TRAINING_COLUMNS)
    assert (acc1["epoch"], acc1["updates"], acc1["train_acc"], acc1["test_acc"]) == (2, 4, 1.0, 0.6)
    assert loss0["epoch"] == 3 and loss0["test_loss"] == 0.85 and loss0["gen_gap"] == pytest.approx(1.0 - 0.55)
    assert (
        acc1["hidden"] == "4"
        and acc1["depth"] == 2
        and acc1["width"] == 4
        and acc1["n_params"] == 6 * 4 + 4 + 4 * 3 + 3
    )
    assert acc1["l2_seed"] == pytest.approx(4 * np.prod([np.sum(p0[k].astype(np.float64) ** 2) for k in ("W1", "W2")]))
    assert loss0["checkpoint_file"].endswith("loss0.npz") and loss0["subset_file"] == "subsets/x.npz"
    with np.load(run_dir / "loss0.npz") as f:
        assert int(f["epoch"]) == 3 and bool(f["reached"]) and np.array_equal(f["W1"], p1["W1"])


def test_an_unreached_checkpoint_describes_the_final_weights(tmp_path):
    run_dir, p0, p1, _ = fake_run(tmp_path, reached_loss0=False)
    _, _, loss0 = run_rows(run_dir, 6, 3)
    assert loss0["reached"] is False and loss0["epoch"] == 3
    with np.load(run_dir / "loss0.npz") as f:
        assert not bool(f["reached"]) and np.array_equal(f["W1"], p1["W1"])
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["loss0"] == {"reached": False, "epoch": None}


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


def test_the_measures_table_joins_records_adds_baselines_and_adjusted_forms(tmp_path):
    rows, paths = [], []
    for mode, size in (("correct", 32), ("random", 64)):
        run_dir, *_ = fake_run(tmp_path, mode, size)
        rows += run_rows(run_dir, 6, 3)
        for ckpt in ("acc1", "ce001", "loss0"):
            run = {
                "label_mode": mode,
                "hidden": [4],
                "learning_rate": 0.001,
                "batch_size": 16,
                "protocol": "independent",
                "size": size,
                "seed": 0,
            }
            path = tmp_path / f"{mode}-{size}-{ckpt}.json"
            save_json(
                path, measure_record(run, ckpt, hessian_trace=float(size), l2_margin=-1.0 if mode == "random" else 16.0)
            )
            paths.append(path)
    training = pd.DataFrame(rows, columns=TRAINING_COLUMNS)
    table = join_measures(training, read_measure_records(paths))
    assert list(table.columns[: len(TRAINING_COLUMNS)]) == list(TRAINING_COLUMNS) and len(table) == 6
    assert list(table.label_mode) == ["correct"] * 3 + ["random"] * 3  # training.csv's order
    assert (table.baseline_label_noise == [0, 0, 0, 1, 1, 1]).all() and np.allclose(
        table.baseline_inverse_m, 1 / table["size"]
    )
    assert (table.baseline_updates == table.updates).all()
    assert np.allclose(table.hessian_trace_adj, np.sqrt(table.hessian_trace / table["size"]))
    assert table.l2_margin_adj.iloc[0] == pytest.approx(0.5 * (math.log(16.0) - math.log(32)))
    assert table.l2_margin_adj.iloc[3:].isna().all()  # a log-measure of a negative value is undefined
    assert "hessian_eig_2_adj" not in table and "margin_adj" not in table and table.hessian_eig_2.isna().all()
    assert table.sharpness_adj.iloc[0] == 0.0
    page = html_view(table, "Complexity measures", "measures.csv")
    assert page.count("<tr") == 7 and "Download measures.csv" in page and "data:text/csv;base64," in page
    with pytest.raises(FileContractError, match=r"no measures for rows"):
        join_measures(pd.concat([training, training.assign(seed=1)]), read_measure_records(paths))


def test_a_measures_record_with_an_undeclared_key_is_refused(tmp_path):
    run = {
        "label_mode": "correct",
        "hidden": [4],
        "learning_rate": 0.001,
        "batch_size": 16,
        "protocol": "independent",
        "size": 32,
        "seed": 0,
    }
    save_json(tmp_path / "m.json", measure_record(run, "acc1", made_up=1.0))
    with pytest.raises(FileContractError, match=r"m.json: .*\[.made_up.\] are declared by no entry"):
        read_measure_records([tmp_path / "m.json"])
    save_json(tmp_path / "n.json", {"run": {"label_mode": "correct"}, "checkpoint": "acc1", "measures": {}})
    with pytest.raises(FileContractError, match=r"n.json: not a measures record"):
        read_measure_records([tmp_path / "n.json"])
    assert ROW_KEYS[-1] == "checkpoint"


def full(**override):
    cfg = json.loads(json.dumps(DEFAULT))
    for k, v in override.items():
        cfg[k] = {**cfg[k], **v} if isinstance(v, dict) else v
    return cfg


def test_check_config_learns_the_dataset_and_refuses_what_cannot_run(tmp_path):
    shape = check_config(full())
    assert (shape["pool_size"], shape["n_features"], shape["n_classes"], shape["warnings"]) == (4000, 784, 10, [])
    for override, message in [
        ({"sizes": [64], "train": {"batch_size": 128}}, r"sizes: \[64\] smaller than train.batch_size \(128\)"),
        ({"train": {"batch_size": [64, 256]}, "sizes": [128, 512]}, r"sizes: \[128\] smaller than train.batch_size"),
        ({"sizes": [4001]}, r"sizes: \[4001\] larger than the training pool of mnist5k \(4000 examples\)"),
        ({"test_size": 5000}, r"test_size: 5000 leaves no training pool"),
        ({"label_modes": ["corrupt101"]}, r"label_modes: unknown label mode 'corrupt101'"),
        ({"measures": {"trace_min_vectors": 30, "trace_max_vectors": 20}}, r"trace_min_vectors \(30\) exceeds"),
        ({"max_job_memory_gb": 0.5}, r"model.hidden: \[64, 64\] \(55,050 parameters\) needs about [\d.]+ GiB"),
        ({"dataset": "no/such.npz"}, r"dataset: file not found: no/such.npz"),
    ]:
        with pytest.raises(ConfigError, match=message):
            check_config(full(**override))
    x = np.zeros((50, 5, 5, 3), np.uint8)
    np.savez(tmp_path / "c.npz", x_train=x, y_train=np.arange(50) % 4, x_test=x[:20], y_test=np.arange(20) % 4)
    assert dataset_shape(str(tmp_path / "c.npz"), 10) == {"pool_size": 50, "n_features": 75, "n_classes": None}
    shape = check_config(full(dataset=str(tmp_path / "c.npz"), sizes=[32], test_size=10, train={"batch_size": 16}))
    assert shape["n_classes"] == 4 and shape["n_features"] == 75
    np.savez(tmp_path / "d.npz", x_train=x)
    with pytest.raises(ConfigError, match=r"lacks arrays \['y_train', 'x_test', 'y_test'\]"):
        dataset_shape(str(tmp_path / "d.npz"), 10)


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


def test_every_file_of_a_run_holds_what_the_result_says(tmp_path):
    run_dir, p0, p1, history = fake_run(tmp_path, reached_loss0=False)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert (summary["max_epochs"], summary["target_loss"], summary["batches_per_epoch"]) == (3, 0.1, 2)
    with np.load(run_dir / "final.npz") as f:
        assert (int(f["epoch"]), bool(f["reached"])) == (3, True) and np.array_equal(f["b2"], p1["b2"])
    with np.load(run_dir / "optimizer.npz") as f:
        assert sorted(f.files) == ["m_W1", "step"] and int(f["step"]) == 6
    acc1, _, loss0 = run_rows(run_dir, 6, 3)
    assert [r["train_loss"] for r in (acc1, loss0)] == [history[2, 1], history[3, 1]]
    assert acc1["diverged"] is False


def test_a_diverged_run_is_marked_in_its_summary_and_rows(tmp_path):
    from genstudy.training import TrainResult, TrainSettings

    run_dir, p0, p1, history = fake_run(tmp_path)
    history = history.copy()
    history[2, 1] = 100 * history[0, 1]  # the loss grew a hundredfold: diverged, whatever followed
    outputs = {name: run_dir / f"{name}.npz" for name in ("acc1", "ce001", "loss0", "final", "optimizer")}
    outputs.update(history=run_dir / "history.csv", summary=run_dir / "summary.json")
    result = TrainResult(
        history=history,
        final_params=p1,
        final_epoch=3,
        acc1_epoch=2,
        acc1_params=p0,
        loss0_epoch=None,
        batches_per_epoch=2,
        optimizer={"step": np.array(6)},
    )
    said = []
    run = json.loads((run_dir / "summary.json").read_text())["run"]
    write_training_outputs(
        result,
        TrainSettings.with_defaults(target_loss=0.1, max_epochs=3),
        outputs,
        run,
        "s.npz",
        p0,
        said.append,
        study="t",
    )
    assert json.loads((run_dir / "summary.json").read_text())["diverged"] is True
    assert said[0].startswith("diverged: the training loss grew to 110")
    assert all(r["diverged"] is True for r in run_rows(run_dir, 6, 3))


def test_a_run_s_files_prove_what_they_are(tmp_path):
    """The summary lists the SHA-256 of every file of its run and names its study and run: a
    checkpoint or history from another run, or a summary read as another run's, is refused."""
    a, *_ = fake_run(tmp_path, size=32)
    summary = json.loads((a / "summary.json").read_text())
    assert summary["study"] == "t" and set(summary["files"]) == {
        "acc1",
        "ce001",
        "loss0",
        "final",
        "optimizer",
        "history",
    }
    identity = run_identity("t", summary["run"])
    assert len(run_rows(a, 6, 3, identity)) == 3
    with pytest.raises(FileContractError, match=r"summary.json: holds .*\"study\": \"t\".*but is read as .*\"other\""):
        run_rows(a, 6, 3, run_identity("other", summary["run"]))
    with pytest.raises(FileContractError, match=r"\"size\": 32.*but is read as .*\"size\": 48"):
        run_rows(a, 6, 3, run_identity("t", {**summary["run"], "size": 48}))
    keep = {name: (a / name).read_bytes() for name in ("acc1.npz", "loss0.npz", "history.csv")}
    (a / "acc1.npz").write_bytes(keep["loss0.npz"])  # two checkpoints swapped
    (a / "loss0.npz").write_bytes(keep["acc1.npz"])
    with pytest.raises(FileContractError, match=rf"{a / 'acc1.npz'}: not the acc1 of {a}"):
        run_rows(a, 6, 3, identity)
    (a / "acc1.npz").write_bytes(keep["acc1.npz"])
    (a / "loss0.npz").write_bytes(keep["loss0.npz"])
    (a / "history.csv").write_text(keep["history.csv"].decode().replace("0.85", "0.86"))  # edited
    with pytest.raises(FileContractError, match=rf"{a / 'history.csv'}: not the history of {a}"):
        run_rows(a, 6, 3, identity)
    (a / "history.csv").write_bytes(keep["history.csv"])
    assert len(run_rows(a, 6, 3, identity)) == 3


def test_damaged_histories_and_summaries_are_refused(tmp_path):
    run_dir, *_ = fake_run(tmp_path)
    text = (run_dir / "history.csv").read_text().splitlines()
    (run_dir / "history.csv").write_text("\n".join(text[:2] + ["2,abc,1.0,0.8,0.6"] + text[3:]) + "\n")
    with pytest.raises(FileContractError, match=r"history.csv: line 3 is damaged or truncated"):
        read_history(run_dir / "history.csv")
    summary = json.loads((run_dir / "summary.json").read_text())
    del summary["run"]["seed"]
    save_json(run_dir / "summary.json", summary)
    with pytest.raises(FileContractError, match=r"summary.json: run lacks keys \['seed'\]"):
        run_rows(run_dir, 6, 3)


def test_duplicate_or_incomplete_measure_records_are_refused(tmp_path):
    run_dir, *_ = fake_run(tmp_path)
    training = pd.DataFrame(run_rows(run_dir, 6, 3), columns=TRAINING_COLUMNS)
    run = json.loads((run_dir / "summary.json").read_text())["run"]
    paths = []
    for ckpt in ("acc1", "ce001", "loss0"):
        save_json(tmp_path / f"{ckpt}.json", measure_record(run, ckpt))
        paths.append(tmp_path / f"{ckpt}.json")
    records = read_measure_records(paths)
    assert len(join_measures(training, records)) == 3
    expected = [{**run_identity("t", run), "checkpoint": c} for c in ("acc1", "ce001", "loss0")]
    assert len(read_measure_records(paths, expected)) == 3
    with pytest.raises(FileContractError, match=r"acc1.json: holds .*\"study\": \"t\".*is read as .*\"study\": \"u\""):
        read_measure_records(paths, [{**e, "study": "u"} for e in expected])  # another study's record
    with pytest.raises(FileContractError, match=r"acc1.json: holds .*\"checkpoint\": \"acc1\".*is read as .*\"ce001\""):
        read_measure_records(paths, expected[1:] + expected[:1])
    with pytest.raises(pd.errors.MergeError):  # two records of one checkpoint: which is right is unknowable
        join_measures(training, pd.concat([records, records.iloc[:1]], ignore_index=True))
    save_json(tmp_path / "bad.json", {"run": run, "checkpoint": "acc1"})
    with pytest.raises(FileContractError, match=r"bad.json: missing keys \['measures'\]"):
        read_measure_records([tmp_path / "bad.json"])


def test_an_undefined_adjusted_value_is_nan():
    from genstudy.tables import adjusted_value

    assert math.isnan(adjusted_value(-1.0, 4, "log")) and math.isnan(adjusted_value(float("nan"), 4, "sqrt"))
    assert adjusted_value(16.0, 4, "sqrt") == 2.0


def test_the_html_view_is_a_borderless_table_with_escaped_cells():
    page = html_view(pd.DataFrame({"a": ["<b>"]}), "T", "t.csv")
    assert (
        '<table class="dataframe t">' in page
    )  # border 0: no border attribute and "&lt;b&gt;" in page and "<b>" not in page.split("<table")[1]


def test_a_reached_checkpoint_keeps_its_epoch_and_an_unreached_one_the_final_weights(tmp_path):
    run_dir, p0, p1, _ = fake_run(tmp_path)
    with np.load(run_dir / "acc1.npz") as f:  # reached at epoch 2, before the run's end at 3
        assert (int(f["epoch"]), bool(f["reached"])) == (2, True) and np.array_equal(f["W1"], p0["W1"])
    history = np.array([[0, 1.1, 0.3, 1.2, 0.25], [1, 0.9, 0.5, 1.0, 0.4]])
    result = TrainResult(
        history=history,
        final_params=p1,
        final_epoch=1,
        acc1_epoch=None,
        acc1_params=None,
        loss0_epoch=None,
        batches_per_epoch=2,
        optimizer={"step": np.array(2)},
    )
    outputs = {
        name: tmp_path / f"u-{name}" for name in ("acc1", "ce001", "loss0", "final", "optimizer", "history", "summary")
    }
    run = json.loads((run_dir / "summary.json").read_text())["run"]
    write_training_outputs(
        result,
        TrainSettings.with_defaults(target_loss=0.1, max_epochs=1),
        outputs,
        run,
        "s.npz",
        p0,
        log=lambda m: None,
        study="t",
    )
    for name in ("acc1", "ce001", "loss0"):
        with np.load(outputs[name]) as f:
            assert (int(f["epoch"]), bool(f["reached"])) == (1, False) and np.array_equal(f["W2"], p1["W2"])


def test_divergence_is_a_hundredfold_growth_of_the_loss_or_of_the_weights():
    from genstudy.runs import divergence

    p0 = {"W1": np.full((2, 2), 0.25), "b1": np.zeros(2)}  # norm 0.5
    history = np.array([[0, 1.1, 0.3, 1.2, 0.25], [1, 1.1 * 99, 0.3, 1.0, 0.2]])
    assert divergence(history, p0, p0) is None  # 99-fold: not yet (and 100 × the accuracy is no threshold)
    history[1, 1] = 100 * history[0, 1]
    assert divergence(history, p0, p0) == "the training loss grew to 110 from 1.1"
    history[1, 1] = 1.0
    assert divergence(history, p0, {k: 99 * v for k, v in p0.items()}) is None
    assert divergence(history, p0, {k: 100 * v for k, v in p0.items()}) == "the weights' norm grew 100-fold (to 50)"
    # float32 weights so large that their squares overflow float32: the norm is still a number
    blown = {"W1": np.full((2, 2), 1e20, np.float32), "b1": np.zeros(2, np.float32)}
    assert divergence(history, p0, blown) == "the weights' norm grew 4e+20-fold (to 2e+20)"
