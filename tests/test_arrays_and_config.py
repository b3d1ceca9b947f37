"""Unit-level checks of the file layer and the config, fast enough for mutation testing:
damaged files refused naming the file, config values typed and checked, sizes of jobs."""

import json

import numpy as np
import pytest
import yaml

from conftest import ROOT
from genstudy.arrays import FileContractError, load_json, load_npz, load_params, save_json, save_npz
from genstudy.config import ConfigError, non_finite_keys, read_config_file, typed_config
from genstudy.datasets import DatasetError, npz_headers
from genstudy.runs import history_csv, read_history, read_summary
from genstudy.study import architectures, hidden_key, lr_key, parse_hidden_key, runs, varying_axes

SCHEMA = yaml.safe_load((ROOT / "workflow/schemas/config.schema.yaml").read_text())
DEFAULT = yaml.safe_load((ROOT / "config.yaml").read_text())


def test_files_that_are_not_npz_archives_say_what_they_are(tmp_path):
    (tmp_path / "notes.npz").write_text("x_train, y_train\n1, 2\n")
    with pytest.raises(DatasetError, match=r"notes.npz is not a zip archive"):
        npz_headers(tmp_path / "notes.npz")
    np.save(tmp_path / "array.npy", np.zeros(3))
    with pytest.raises(DatasetError, match=r"array.npy is a single numpy array \(.npy\), not an .npz archive"):
        npz_headers(tmp_path / "array.npy")


def test_config_file_errors_name_the_file_and_the_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("study: x\nsizes: [128, 256\nseeds: [0]\n")
    with pytest.raises(ConfigError, match=r"bad.yaml, line \d+, column \d+: not valid YAML"):
        read_config_file(bad)
    (tmp_path / "empty.yaml").write_text("")
    with pytest.raises(ConfigError, match=r"empty.yaml: the config file is empty"):
        read_config_file(tmp_path / "empty.yaml")
    with pytest.raises(ConfigError, match=r"missing.yaml: config file not found"):
        read_config_file(tmp_path / "missing.yaml")


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


def test_config_values_are_typed_as_the_schema_says():
    typed = typed_config(
        {
            "train": {
                "batch_size": 32.0,
                "chunk_epochs": "50.0",
                "max_epochs": "200",
                "learning_rate": "[0.001, 3e-4]",
            },
            "sizes": "[64, 96.0]",
            "seeds": [1.0],
            "model": {"hidden": "[[32], [64, 64]]"},
            "dataset": "mnist5k",
        },
        SCHEMA,
    )
    assert typed["train"] == {"batch_size": 32, "chunk_epochs": 50, "max_epochs": 200, "learning_rate": [0.001, 0.0003]}
    assert typed["sizes"] == [64, 96] and all(type(v) is int for v in typed["sizes"] + typed["seeds"])
    assert typed["model"]["hidden"] == [[32], [64, 64]] and typed["dataset"] == "mnist5k"
    assert typed_config({"train": {"batch_size": 32.5}}, SCHEMA)["train"]["batch_size"] == 32.5  # left for the schema
    assert typed_config({"train": {"batch_size": "big"}}, SCHEMA)["train"]["batch_size"] == "big"
    assert non_finite_keys({"a": float("nan"), "b": {"c": [1.0, float("inf")]}, "d": 2}) == ["a", "b.c[1]"]


def test_study_axes_and_path_segments():
    assert architectures([64, 64]) == [(64, 64)] and architectures([[8], [16, 16]]) == [(8,), (16, 16)]
    assert hidden_key((64, 32)) == "64-32" and parse_hidden_key("64-32") == (64, 32)
    assert lr_key(0.001) == "0.001" and float(lr_key(3e-5)) == 3e-5
    assert len(runs(DEFAULT)) == 48 and varying_axes(DEFAULT) == ["size", "label_mode"]
    grid = {
        **DEFAULT,
        "model": {"hidden": [[8, 8], [16, 16], [8, 8, 8]]},
        "train": {**DEFAULT["train"], "learning_rate": [0.001, 0.01], "protocol": ["independent"]},
    }
    assert varying_axes(grid) == ["size", "label_mode", "learning_rate", "depth", "width"]
    assert varying_axes({**grid, "model": {"hidden": [[8, 16], [16, 8]]}})[-1] == "hidden"
    assert {r.wildcards["lr"] for r in runs(grid)} == {"0.001", "0.01"}


def test_npz_files_are_written_reproducibly_and_read_back_with_errors_that_name_them(tmp_path):
    a = {"x": np.arange(6.0).reshape(2, 3), "y": np.array([1, 2])}
    save_npz(tmp_path / "a.npz", **a)
    save_npz(tmp_path / "b.npz", **a)
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    back = load_npz(tmp_path / "a.npz", ["x", "y"])
    assert all(np.array_equal(back[k], a[k]) for k in a)
    with pytest.raises(FileContractError, match=r"a.npz: missing arrays \['z'\]"):
        load_npz(tmp_path / "a.npz", ["x", "z"])
    data = (tmp_path / "a.npz").read_bytes()
    (tmp_path / "cut.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(FileContractError, match=r"cut.npz: unreadable or truncated npz file"):
        load_npz(tmp_path / "cut.npz")
    save_json(tmp_path / "s.json", {"k": 1})
    assert load_json(tmp_path / "s.json", ["k"]) == {"k": 1}
    (tmp_path / "list.json").write_text("[1, 2]")
    with pytest.raises(FileContractError, match=r"list.json: expected a JSON object"):
        load_json(tmp_path / "list.json")
    save_npz(tmp_path / "nan.npz", W1=np.array([[np.nan]]), b1=np.zeros(1))
    with pytest.raises(FileContractError, match=r"nan.npz: non-finite values in layer 1"):
        load_params(tmp_path / "nan.npz")


def test_history_round_trips_exactly():
    history = np.array([[0, 2.302585092994046, 0.1, 2.3, 0.12], [1, 1e-5 / 3, 1.0, 0.7, 0.744]])
    text = history_csv(history)
    assert text.endswith("\n") and text.splitlines()[0] == "epoch,train_loss,train_acc,test_loss,test_acc"
    path_rows = [line.split(",") for line in text.splitlines()[1:]]
    assert [float(v) for v in path_rows[1]] == history[1].tolist()
