"""The config (genstudy.config): reading, typing and checking it against the schema and the machine."""

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from genstudy.config import (
    ConfigError,
    check_config,
    dataset_shape,
    machine_memory_mb,
    non_finite_keys,
    read_config_file,
    typed_config,
)
from genstudy.resources import (
    job_resources,
)
from helpers import ROOT

DEFAULT = yaml.safe_load((ROOT / "config.yaml").read_text())
SCHEMA = yaml.safe_load((ROOT / "workflow/schemas/config.schema.yaml").read_text())


def test_config_boundaries(tmp_path):
    base = json.loads(json.dumps(DEFAULT))
    ok = {**base, "sizes": [128, 4000]}
    assert check_config(ok)["pool_size"] == 4000  # the whole pool is a valid size
    m = base["measures"]
    check_config({**base, "measures": {**m, "trace_min_vectors": 20, "trace_max_vectors": 20}})  # equal: fine
    check_config({**base, "measures": {**m, "top_k": 100, "lanczos_max_iter": 100}})  # equal: fine
    with pytest.raises(ConfigError, match=r"train.learning_rate: must be finite"):
        check_config({**base, "train": {**base["train"], "learning_rate": float("nan")}})
    gib = machine_memory_mb() / 1024
    meminfo = (
        int(
            next(
                line for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")
            ).split()[1]
        )
        / 2**20
    )
    assert abs(gib - meminfo) / meminfo < 0.05
    need = job_resources("measures", max(base["sizes"]), [64, 64], 1, base, {"n_features": 784, "n_classes": 10})[
        "mem_mb"
    ]
    check_config({**base, "max_job_memory_gb": need / 1024})  # exactly enough (a power of two: no rounding)
    with pytest.raises(
        ConfigError,
        match=r"needs about [\d.]+ GiB in a measures job at n = 1024, more than the "
        r"[\d.]+ GiB allowed",
    ):
        check_config({**base, "max_job_memory_gb": need / 1024 - 1e-6})  # a kilobyte short
    with pytest.raises(
        ConfigError,
        match=r"measures.top_k \(60\) exceeds the number of parameters of model.hidden "
        r"\[1\]",
    ):
        check_config(
            {**base, "dataset": "x.npz", "model": {"hidden": [1]}, "measures": {**m, "top_k": 60}}
            | {
                "dataset": _tiny_npz(tmp_path),
                "sizes": [16],
                "test_size": 10,
                "train": {**base["train"], "batch_size": 16},
            }
        )


def _tiny_npz(tmp_path):
    x = np.zeros((40, 2, 2), np.uint8)
    x[:, 0, 0] = 9
    np.savez(tmp_path / "t.npz", x_train=x, y_train=np.arange(40) % 2, x_test=x[:10], y_test=np.arange(10) % 2)
    return str(tmp_path / "t.npz")


def test_config_file_lines_and_columns_are_one_based(tmp_path):
    (tmp_path / "c.yaml").write_text("a: 1\nb: [1, 2\n")
    with pytest.raises(ConfigError, match=r"c.yaml, line 3, column 1: not valid YAML"):
        read_config_file(tmp_path / "c.yaml")
    (tmp_path / "l.yaml").write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match=r"l.yaml: expected keys at the top level, got a list"):
        read_config_file(tmp_path / "l.yaml")
    (tmp_path / "t.yaml").write_text("a:\n\t- 1\n")
    with pytest.raises(ConfigError, match=r"t.yaml, line \d+, column \d+: not valid YAML"):
        read_config_file(tmp_path / "t.yaml")
    assert read_config_file(ROOT / "config.yaml")["study"] == "default"


def test_typed_config_follows_any_of_booleans_and_unknown_keys():
    schema = {
        "type": "object",
        "properties": {
            "flag": {"type": "boolean"},
            "n": {"anyOf": [{"type": "integer"}, {"type": "array", "items": {"type": "integer"}}]},
            "either": {"type": ["number", "null"]},
        },
    }
    typed = typed_config({"flag": "true", "n": "[1, 2.0]", "either": "2.5", "other": "7"}, schema)
    assert typed == {"flag": True, "n": [1, 2], "either": 2.5, "other": "7"}
    assert typed_config({"flag": "maybe"}, schema) == {"flag": "maybe"}
    assert typed_config({"n": "3"}, schema) == {"n": 3}
    assert typed_config("[1, 2]", {"type": "array"}) == [1, 2]
    assert typed_config({"model": {"hidden": "[8, 8]"}}, SCHEMA)["model"]["hidden"] == [8, 8]


def test_the_config_check_asks_for_the_dataset_s_host(tmp_path, monkeypatch):
    from genstudy import datasets

    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    asked = []
    monkeypatch.setattr(datasets, "reachable", lambda host: asked.append(host) or True)
    check_config({**DEFAULT, "dataset": "fashion_mnist", "max_job_memory_gb": 64})
    assert asked == ["storage.googleapis.com"]
    monkeypatch.setattr(datasets, "reachable", lambda host: False)
    with pytest.raises(ConfigError, match=r"dataset: fashion_mnist is not downloaded"):
        check_config({**DEFAULT, "dataset": "fashion_mnist", "max_job_memory_gb": 64})


def test_top_k_is_checked_against_the_parameters_of_each_network():
    from genstudy.config import check_memory

    cfg = {**DEFAULT, "model": {"hidden": [1]}}
    for n_classes, n_params in ((3, 4 + 1 + 3 + 3), (None, 4 + 1 + 10 + 10)):  # unknown K: 10
        shape = {"n_features": 4, "n_classes": n_classes}
        check_memory({**cfg, "measures": {**cfg["measures"], "top_k": n_params}}, shape, 1e9)  # equal: fine
        with pytest.raises(ConfigError, match=rf"measures.top_k \({n_params + 1}\) exceeds"):
            check_memory({**cfg, "measures": {**cfg["measures"], "top_k": n_params + 1}}, shape, 1e9)


def test_a_yaml_error_without_a_position_still_names_the_file(tmp_path):
    (tmp_path / "z.yaml").write_text("a: \x00\n")
    with pytest.raises(ConfigError, match=rf"^{tmp_path / 'z.yaml'}: not valid YAML"):
        read_config_file(tmp_path / "z.yaml")


def test_typed_config_types_only_what_the_schema_asks_for():
    assert typed_config("2.0", {"type": "number"}) == 2.0 and isinstance(typed_config("2.0", {"type": "number"}), float)
    assert typed_config("2.0", {"type": "integer"}) == 2 and isinstance(typed_config("2.0", {"type": "integer"}), int)
    assert typed_config("true", {"type": "string"}) == "true"
    assert typed_config("1", {"type": "boolean"}) == "1"  # not a boolean: left for the schema to report
    assert typed_config("x", {"type": "object"}) == "x"
    assert typed_config({"a": "1"}, {"type": "object"}) == {"a": "1"}  # no properties declared


def test_a_job_s_reparse_of_the_config_does_not_load_the_dataset(tmp_path, monkeypatch):
    import genstudy.config as cfg

    rng = np.random.default_rng(0)
    path = tmp_path / "d.npz"
    np.savez(
        path,
        x_train=rng.integers(0, 255, (60, 4, 4)),
        y_train=np.arange(60) % 3,
        x_test=rng.integers(0, 255, (20, 4, 4)),
        y_test=np.arange(20) % 3,
    )
    config = {
        **DEFAULT,
        "dataset": str(path),
        "sizes": [16, 32],
        "test_size": 10,
        "train": {**DEFAULT["train"], "batch_size": 16},
    }
    full = check_config(config)
    loads = []
    monkeypatch.setattr(cfg, "check_dataset_content", lambda d: loads.append(d))
    light = check_config(config, load_data=False)
    assert loads == [] and light["n_classes"] == full["n_classes"] == 3 and light["pool_size"] == full["pool_size"]


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
