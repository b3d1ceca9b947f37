"""A run's files (genstudy.runs): histories, summaries, table rows and divergence."""

import json

import numpy as np
import pytest

from genstudy.arrays import FileContractError, save_json
from genstudy.identity import run_identity
from genstudy.runs import TRAINING_COLUMNS, history_csv, read_history, read_summary, run_rows, write_training_outputs
from genstudy.training import TrainResult, TrainSettings
from helpers import fake_run


def test_a_damaged_history_or_summary_is_refused_naming_the_file(tmp_path):
    good = "epoch,train_loss,train_acc,test_loss,test_acc\n0,2.3,0.1,2.3,0.1\n1,0.5,0.74,0.7,0.74\n"
    path = tmp_path / "history.csv"
    path.write_text(good)
    assert read_history(path)[1]["test_acc"] == 0.74
    for damaged, why in (
        (good[:-1], "truncated"),
        (good[:-2], "truncated"),
        (good.replace(",0.74\n", "\n"), "line 3"),
        (good.replace("0.5", "nan"), "line 3"),
        (good.replace("epoch,", "epoch;"), "header"),
    ):
        path.write_text(damaged)
        with pytest.raises(FileContractError, match=rf"history.csv: .*{why}|history.csv: not a training history"):
            read_history(path)
    summary = tmp_path / "summary.json"
    summary.write_text(json.dumps({"run": {"label_mode": "correct"}, "final_epoch": 3}))
    with pytest.raises(FileContractError, match=r"summary.json: missing keys \[.*'batches_per_epoch'"):
        read_summary(summary)
    summary.write_text('{"run": {"label_mode": "correct"')
    with pytest.raises(FileContractError, match=r"summary.json: unreadable or truncated JSON"):
        read_summary(summary)


def test_history_round_trips_exactly():
    history = np.array([[0, 2.302585092994046, 0.1, 2.3, 0.12], [1, 1e-5 / 3, 1.0, 0.7, 0.744]])
    text = history_csv(history)
    assert text.endswith("\n") and text.splitlines()[0] == "epoch,train_loss,train_acc,test_loss,test_acc"
    path_rows = [line.split(",") for line in text.splitlines()[1:]]
    assert [float(v) for v in path_rows[1]] == history[1].tolist()


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
