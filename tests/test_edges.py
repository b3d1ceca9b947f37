"""Edges of the numpy layer, each against its contract: the boundaries of every check, the exact
bytes and text of what is written, the exact rows of the ranking tables. Written to kill what
mutation testing (`make mutation`) showed the other tests let through."""

import hashlib
import itertools
import json
import math
import os
import socket
import sys
import time
import warnings
import zipfile
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import ROOT, tiny_params
from genstudy import arrays
from genstudy.arrays import FileContractError, load_checkpoint, load_npz, load_params, load_subset, save_json, save_npz
from genstudy.config import (
    ConfigError,
    check_config,
    check_dataset_available,
    dataset_shape,
    machine_memory_mb,
    read_config_file,
    typed_config,
)
from genstudy.data import check_labels, load_dataset, prepare_pool_and_test, scale_images, stratified_split
from genstudy.data import subset as draw_subset
from genstudy.datasets import DATASETS, Dataset, DatasetError, keras_home, npz_headers
from genstudy.ranking import (
    conditional_mutual_information,
    granulated_kendall,
    kendall,
    rank_correlations,
    ranked_columns,
)
from genstudy.registry import adjusted, columns, entry
from genstudy.resources import (
    job_resources,
    measures_memory_mb,
    measures_runtime_min,
    train_memory_mb,
    train_runtime_min,
)
from genstudy.study import arch_columns, runs, varying_axes
from genstudy.tables import html_view, read_training, save_table

DEFAULT = yaml.safe_load((ROOT / "config.yaml").read_text())
SCHEMA = yaml.safe_load((ROOT / "workflow/schemas/config.schema.yaml").read_text())


# --- arrays -------------------------------------------------------------------------------------


def test_npz_bytes_are_pinned(tmp_path):
    """Reproducible files: fixed member order, timestamps, permissions, no compression, zip64
    headers. The digest pins all of it (numpy's .npy format is fixed by the lock)."""
    save_npz(tmp_path / "a.npz", b=np.arange(3, dtype=np.int64), a=np.eye(2, dtype=np.float32))
    with zipfile.ZipFile(tmp_path / "a.npz") as zf:
        infos = zf.infolist()
        assert [i.filename for i in infos] == ["a.npy", "b.npy"]
        assert all(
            i.date_time == (1980, 1, 1, 0, 0, 0)
            and i.external_attr == 0o644 << 16
            and i.compress_type == zipfile.ZIP_STORED
            for i in infos
        )
    digest = hashlib.sha256((tmp_path / "a.npz").read_bytes()).hexdigest()
    assert digest == "ab62ca19e8bdda847507fcf4ed39de09c8c73b148db412e21dfd02b27d3a793a"
    save_npz(tmp_path / "b.npz", a=np.eye(2, dtype=np.float32), b=np.arange(3, dtype=np.int64))
    assert (tmp_path / "b.npz").read_bytes() == (tmp_path / "a.npz").read_bytes()  # keyword order is irrelevant


def test_writes_are_atomic_hidden_temporaries_in_the_target_folder(tmp_path, monkeypatch):
    moves = []
    real_replace = os.replace
    monkeypatch.setattr(
        arrays.os, "replace", lambda src, dst: (moves.append((Path(src), Path(dst))), real_replace(src, dst))[1]
    )
    target = tmp_path / "new" / "deeper" / "x.json"  # parent folders are created
    save_json(target, {"b": 1, "a": [1, float("nan")]})
    ((src, dst),) = moves
    assert dst == target and src.parent == target.parent
    assert src.name.startswith(".x.json.") and src.name.endswith(".tmp") and not src.exists()
    assert target.read_text() == '{\n  "a": [\n    1,\n    NaN\n  ],\n  "b": 1\n}\n'
    assert list(target.parent.iterdir()) == [target]
    for umask, mode in ((0o022, 0o644), (0o077, 0o600), (0o002, 0o664)):  # as any new file, not mkstemp's 0600
        old = os.umask(umask)
        try:
            save_npz(tmp_path / f"m{mode:o}.npz", a=np.zeros(1))
        finally:
            os.umask(old)
        assert (tmp_path / f"m{mode:o}.npz").stat().st_mode & 0o777 == mode


def test_npz_readers_refuse_pickles_and_malformed_layers(tmp_path):
    np.savez(tmp_path / "obj.npz", x=np.array([{"a": 1}], dtype=object))
    with pytest.raises(FileContractError, match=r"obj.npz: unreadable or truncated npz file"):
        load_npz(tmp_path / "obj.npz")
    good = {k: v.astype(np.float32) for k, v in tiny_params(0, (5, 4, 3)).items()}
    for broken, why in [
        ({**good, "W1": good["W1"][None]}, r"inconsistent shapes W1 \(1, 5, 4\)"),
        ({**good, "b1": good["b1"][:3]}, r"inconsistent shapes W1 \(5, 4\), b1 \(3,\)"),
        ({**good, "W2": good["W2"][:3]}, r"inconsistent shapes W2 \(3, 3\)"),
        ({k: v for k, v in good.items() if k != "b2"}, r"missing arrays \['b2'\]"),
    ]:
        np.savez(tmp_path / "p.npz", **broken)
        with pytest.raises(FileContractError, match=r"p.npz: " + why):
            load_params(tmp_path / "p.npz")
    np.savez(tmp_path / "p.npz", **good)
    assert list(load_params(tmp_path / "p.npz")) == ["W1", "b1", "W2", "b2"]
    with pytest.raises(FileContractError, match=r"p.npz: missing arrays \['epoch', 'reached'\]"):
        load_checkpoint(tmp_path / "p.npz")
    np.savez(tmp_path / "c.npz", epoch=np.array(4), reached=np.array(False), **good)
    params, epoch, reached = load_checkpoint(tmp_path / "c.npz")
    assert (epoch, reached, params["W2"].shape) == (4, False, (4, 3))


def test_subset_files_are_checked(tmp_path):
    n = 6
    ok = dict(x=np.zeros((n, 4), np.float32), y=np.arange(n), y_true=np.arange(n), index=np.arange(n))
    np.savez(tmp_path / "s.npz", **ok)
    assert set(load_subset(tmp_path / "s.npz")) == {"x", "y", "y_true", "index"}
    for key, bad in (
        ("x", np.zeros((n, 2, 2))),
        ("y", np.arange(n - 1)),
        ("y_true", np.zeros((n, 1))),
        ("index", np.arange(n + 1)),
    ):
        np.savez(tmp_path / "s.npz", **{**ok, key: bad})
        with pytest.raises(FileContractError, match=rf"s.npz: expected x \(n, d\).*{key} \("):
            load_subset(tmp_path / "s.npz")
    np.savez(tmp_path / "s.npz", **{k: v for k, v in ok.items() if k != "index"})
    with pytest.raises(FileContractError, match=r"missing arrays \['index'\]"):
        load_subset(tmp_path / "s.npz")


# --- data ---------------------------------------------------------------------------------------


def test_pixels_are_scaled_exactly_at_every_boundary():
    u8 = np.array([[0, 128, 255]], np.uint8)
    np.testing.assert_array_equal(scale_images(u8, "s"), (u8 / 255.0).astype(np.float32))
    unit = np.array([[0.0, 0.5, 1.0]])
    np.testing.assert_array_equal(scale_images(unit, "s"), unit.astype(np.float32))  # already in [0, 1]: kept
    np.testing.assert_array_equal(scale_images(np.array([[0.0, 2.0]]), "s"), np.float32([[0.0, 2.0 / 255]]))
    # floats above 1 with fractions have no scale to infer: refused, not divided by 255
    with pytest.raises(DatasetError, match=r"s: pixel values in \[0, 1.5\] with fractions: neither in \[0, 1\]"):
        scale_images(np.array([[0.0, 1.5]]), "s")
    assert scale_images(np.full((1, 2), 255.0), "s").max() == 1.0
    with pytest.raises(DatasetError, match=r"s: pixel values above 255 \(max 256.0\)"):
        scale_images(np.full((1, 2), 256.0), "s")
    assert scale_images(np.ones((1, 3, 2, 2), bool), "s").shape == (1, 12)  # one image, colour, booleans
    assert scale_images(np.ones((2, 5, 5), np.int16), "s", (5, 5)).dtype == np.float32
    assert scale_images(np.ones((2, 25)), "s", (5, 5)).shape == (2, 25)
    for bad, why in [
        (np.zeros((0, 4)), "non-empty"),
        (np.array([["a", "b"]]), "numeric pixel values, got dtype <U1"),
        (np.array([[-1.0, 0.0]]), r"non-negative \(min -1.0\)"),
        (np.array([[np.inf]]), "finite"),
    ]:
        with pytest.raises(DatasetError, match=why):
            scale_images(bad, "s")


def test_labels_are_checked_at_every_boundary():
    np.testing.assert_array_equal(check_labels(np.array([[2], [0]]), 2, "y", 3), [2, 0])  # a column: flattened
    assert check_labels(np.array([1.0, 2.0]), 2, "y", 3).dtype == np.int64  # whole floats are labels
    assert check_labels(np.array([0, 2]), 2, "y", 3).tolist() == [0, 2]  # the largest class, K − 1
    for bad, n, k, why in [
        (np.array([[1, 2], [0, 1]]), 2, 3, r"y: expected labels of shape \(2,\)"),
        (np.array([0, 1, 2]), 2, 3, r"shape \(2,\) to match the images, got \(3,\)"),
        (np.array([0.5, 1.0]), 2, 3, "fractional or non-finite"),
        (np.array([np.nan, 1.0]), 2, 3, "fractional or non-finite"),
        (np.array([0, 3]), 2, 3, r"must lie in 0..2, found 0..3"),
        (np.array([-1, 0]), 2, None, r"must lie in non-negative, found -1..0"),
        (np.array(["0", "1"]), 2, 3, r"got dtype <U1"),
    ]:
        with pytest.raises(DatasetError, match=why):
            check_labels(bad, n, "y", k)
    assert check_labels(np.array([7, 0]), 2, "y", None).tolist() == [7, 0]  # no K given: any non-negative


def test_the_stratified_split_hands_out_the_remainder_to_the_largest_fractions():
    y = np.array([0] * 5 + [1] * 3 + [2] * 2)  # quotas for 4: 2.0, 1.2, 0.8 -> 2, 1, 1
    pool, test = stratified_split(y, 4, 0)
    assert np.bincount(y[test], minlength=3).tolist() == [2, 1, 1]
    assert sorted(np.concatenate([pool, test]).tolist()) == list(range(10)) and list(test) == sorted(test)
    assert pool.dtype.kind == "i" and len(pool) == 6
    y = np.array([0] * 6 + [1] * 3 + [2])  # quotas for 5: 3.0, 1.5, 0.5: the tie goes to the first class
    assert np.bincount(y[stratified_split(y, 5, 1)[1]], minlength=3).tolist() == [3, 2, 0]
    assert len(stratified_split(y, 1, 0)[1]) == 1 and len(stratified_split(y, 9, 0)[1]) == 9
    # many ties among the fractional parts, in an order that an unstable sort would shuffle
    counts = [2, 3, 4, 4, 1, 1, 4, 4, 1, 2, 4, 2]
    y12 = np.repeat(np.arange(12), counts)
    quota = [Fraction(10 * c, sum(counts)) for c in counts]
    extra = sorted(range(12), key=lambda k: (-(quota[k] - math.floor(quota[k])), k))[: 10 - sum(map(math.floor, quota))]
    expected = [math.floor(q) + (k in extra) for k, q in enumerate(quota)]
    assert np.bincount(y12[stratified_split(y12, 10, 0)[1]], minlength=12).tolist() == expected
    for bad in (0, 10):
        with pytest.raises(DatasetError, match=rf"test_size must be between 1 and 9, got {bad}"):
            stratified_split(y, bad, 0)


def test_a_subset_may_take_the_whole_pool_and_uses_the_dataset_s_classes():
    x = np.arange(20, dtype=np.float64).reshape(10, 2)
    y = np.arange(10) % 3
    whole = draw_subset(x, y, "random", 0, 10, 3)
    assert sorted(whole["index"]) == list(range(10)) and whole["x"].dtype == np.float32
    assert set(whole["y"]) <= {0, 1, 2} and not np.array_equal(whole["y"], draw_subset(x, y, "random", 1, 10, 3)["y"])
    with pytest.raises(DatasetError, match=r"size 11 exceeds the training pool \(10 examples\)"):
        draw_subset(x, y, "random", 0, 11, 3)


def test_an_official_test_split_is_kept_whole_at_its_size(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 255, (30, 4, 4)).astype(np.uint8)
    np.savez(tmp_path / "d.npz", x_train=x, y_train=np.arange(30) % 3, x_test=x[:12], y_test=np.arange(12) % 3)
    *_, xt, yt, s = prepare_pool_and_test(str(tmp_path / "d.npz"), 12, 0)
    np.testing.assert_array_equal(yt, np.arange(12) % 3)  # all of it, in its order
    assert (s.n_classes, s.image_shape) == (3, (4, 4)) and len(
        prepare_pool_and_test(str(tmp_path / "d.npz"), 11, 0)[3]
    ) == 11
    np.savez(tmp_path / "e.npz", x_train=x, y_train=np.arange(30) % 3, x_test=x[:12], y_test=np.arange(12) % 3 + 5)
    assert load_dataset(str(tmp_path / "e.npz")).n_classes == 8  # K from the largest label of either split
    np.savez(tmp_path / "f.npz", x_train=x, y_train=np.arange(30) % 3, x_test=x[:12], y_test=np.full(12, -1))
    with pytest.raises(DatasetError, match=rf"{tmp_path / 'f.npz'}: y_test: labels must lie in"):
        load_dataset(str(tmp_path / "f.npz"))


def test_mnist5k_declares_its_shape_and_classes():
    s = load_dataset("mnist5k")
    assert (s.n_classes, s.image_shape, s.x_train.shape, s.x_test) == (10, (28, 28), (5000, 784), None)


# --- datasets and config ------------------------------------------------------------------------


def test_the_dataset_table_and_the_offline_check(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    assert keras_home() == tmp_path and DATASETS["cifar10"].n_features == 3072
    spec = DATASETS["mnist"]
    assert not spec.cached()
    (tmp_path / "datasets").mkdir()
    (tmp_path / "datasets" / "mnist.npz").write_bytes(b"")
    assert spec.cached()
    check_dataset_available("mnist")  # cached: fine offline
    check_dataset_available("mnist5k")  # nothing to download
    check_dataset_available(str(tmp_path / "my.npz"))  # a user's file
    with pytest.raises(ConfigError) as err:
        check_dataset_available("fashion_mnist")
    where = ", ".join(str(tmp_path / "datasets" / f) for f in DATASETS["fashion_mnist"].cache)
    assert f"({where} missing)" in str(err.value) and "storage.googleapis.com cannot be reached" in str(err.value)
    monkeypatch.delenv("KERAS_HOME")
    assert keras_home() == Path.home() / ".keras"
    odd = Dataset("odd", lambda: None, (2, 3), 4, 10, True, cache=(), host="")
    assert odd.n_features == 6 and odd.cached()


def test_npz_headers_read_shapes_without_loading(tmp_path):
    np.savez(tmp_path / "d.npz", x_train=np.zeros((7, 3, 2), np.uint8), y_train=np.zeros(7, np.int32))
    assert npz_headers(tmp_path / "d.npz") == {"x_train": ((7, 3, 2), "|u1"), "y_train": ((7,), "<i4")}
    (tmp_path / "e.npz").write_bytes(b"")
    with pytest.raises(Exception, match=r"e.npz is empty"):
        npz_headers(tmp_path / "e.npz")
    with zipfile.ZipFile(tmp_path / "z.npz", "w") as zf:
        zf.writestr("x_train.npy", b"not an array")
    with pytest.raises(Exception, match=r"z.npz is not a readable .npz archive"):
        npz_headers(tmp_path / "z.npz")


def test_dataset_shapes_of_the_named_datasets():
    assert dataset_shape("mnist5k", 1000) == {"pool_size": 4000, "n_features": 784, "n_classes": 10}
    assert dataset_shape("mnist", 1000) == {"pool_size": 60000, "n_features": 784, "n_classes": 10}
    assert dataset_shape("cifar10", 10) == {"pool_size": 50000, "n_features": 3072, "n_classes": 10}


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


# --- registry, study, resources, tables ---------------------------------------------------------


def test_registry_columns_and_adjusted_boundaries():
    assert columns(1, 1) == [c for c in columns(1, 1)]
    one = columns(2, 1)
    assert "fro_2" in one and "fro_3" not in one and "hessian_eig_1" in one and "hessian_eig_2" not in one
    three = columns(3, 5)
    assert {"spec_3", "fro_3", "hessian_eig_5"} <= set(three) and not {"spec_4", "hessian_eig_6"} & set(three)
    assert entry("hessian_eig_1").ranked and not entry("hessian_eig_2").ranked  # the exact entry wins
    assert adjusted(0.0, 4, "sqrt") == 0.0 and adjusted(float("inf"), 4, "sqrt") is None
    assert adjusted(1.0, 4, "log") == pytest.approx(-0.5 * math.log(4))


def test_study_runs_and_axes_carry_every_value():
    cfg = json.loads(json.dumps(DEFAULT))
    cfg.update(
        sizes=[32],
        seeds=[5],
        label_modes=["wrong"],
        train={**cfg["train"], "learning_rate": 0.01, "batch_size": 16, "protocol": "carry_optimizer"},
    )
    (r,) = runs(cfg)
    assert (r.label_mode, r.hidden, r.learning_rate, r.batch_size, r.protocol, r.size, r.seed) == (
        "wrong",
        (64, 64),
        0.01,
        16,
        "carry_optimizer",
        32,
        5,
    )
    cfg["train"].update(batch_size=[16, 32], protocol=["independent", "carry_optimizer"])
    assert varying_axes(cfg) == ["batch_size", "protocol"]
    cfg["model"] = {"hidden": [[8, 8], [16, 16]]}
    assert varying_axes(cfg) == ["batch_size", "protocol", "width"]
    cfg["model"] = {"hidden": [[8], [8, 8]]}
    assert varying_axes(cfg) == ["batch_size", "protocol", "depth"]
    cfg["model"] = {"hidden": [[8, 16], [16, 16]]}  # not uniform: one axis per architecture
    assert varying_axes(cfg) == ["batch_size", "protocol", "hidden"]
    assert arch_columns((8, 16), 4, 2) == {"depth": 3, "width": None, "n_params": 4 * 8 + 8 + 8 * 16 + 16 + 16 * 2 + 2}
    assert arch_columns((8, 8), 4, 2)["width"] == 8


def test_resource_estimates_count_every_term():
    sizes = [784, 64, 64, 10]
    p = 784 * 64 + 64 + 64 * 64 + 64 + 64 * 10 + 10
    assert train_memory_mb(100, 50, 784, sizes) == pytest.approx(
        900 + ((2 * 100 + 50) * 784 * 4 + 10 * p * 4 + 6 * 150 * (64 + 64 + 10) * 4) / 2**20
    )
    assert measures_memory_mb(100, 784, sizes, 60) == pytest.approx(
        900 + (100 * 784 * 8 + 70 * p * 8 + 6 * 100 * 138 * 8 + 250 * 10 * 784 * 8 * 3) / 2**20
    )
    assert measures_runtime_min(1000, sizes, 100, 2) == pytest.approx(10 * (30 + 2 * 100 * 8 * 5e-11 * p * 1000) / 60)
    cfg = json.loads(json.dumps(DEFAULT))
    train = job_resources("train", 1024, [64, 64], 1, cfg, {"n_features": 784, "n_classes": None})  # K: 10
    assert train["mem_mb"] == int(1.5 * train_memory_mb(1024, 1000, 784, sizes))
    assert train_runtime_min(10, 10, [2, 2], 1) == pytest.approx(5.0)  # start-up alone: 10 × 30 s
    assert train_runtime_min(10**6, 3000, sizes, 3000) == pytest.approx(
        10 * (30 + 3000 * 5e-11 * (10**6 + 1000) * p) / 60
    )
    assert train_runtime_min(10**6, 3000, sizes, 3000, test_every=10) == pytest.approx(
        10 * (30 + 3000 * 5e-11 * (10**6 + 100) * p) / 60
    )
    m = cfg["measures"]
    products = m["lanczos_max_iter"] + m["slq_runs"] * m["slq_steps"] + m["trace_max_vectors"] + 100
    measures = job_resources("measures", 3 * 10**6, [64, 64], 2, cfg, {"n_features": 784, "n_classes": None})
    assert measures["runtime"] == 2 * math.ceil(measures_runtime_min(3 * 10**6, sizes, products, 3))
    assert measures["runtime"] == 2 * math.ceil(10 * (30 + 3 * products * 8 * 5e-11 * p * 3 * 10**6) / 60)


def test_the_training_table_reader_checks_columns_and_types(tmp_path):
    from genstudy.runs import TRAINING_COLUMNS

    row = {c: 1 for c in TRAINING_COLUMNS} | {
        "hidden": "64",
        "label_mode": "correct",
        "protocol": "independent",
        "checkpoint": "acc1",
    }
    pd.DataFrame([row]).to_csv(tmp_path / "t.csv", index=False)
    t = read_training(tmp_path / "t.csv")
    assert (
        t.hidden.iloc[0] == "64" and t.protocol.iloc[0] == "independent" and list(t.columns) == list(TRAINING_COLUMNS)
    )
    pd.DataFrame([row]).drop(columns="seed").to_csv(tmp_path / "u.csv", index=False)
    with pytest.raises(FileContractError, match=r"u.csv: columns .* are not the training table's"):
        read_training(tmp_path / "u.csv")
    (tmp_path / "v.csv").write_text('a,b\n"1,2\n')
    with pytest.raises(FileContractError, match=r"v.csv: unreadable table"):
        read_training(tmp_path / "v.csv")


def test_html_view_shows_the_table_and_embeds_the_exact_csv():
    import base64

    t = pd.DataFrame({"a": [1.23456789, np.nan], "b": ["<x>", "y"]})
    page = html_view(t, "T & U", "t.csv")
    assert "<title>T &amp; U</title>" in page and "<td>1.235</td>" in page and "&lt;x&gt;" in page
    assert "<td></td>" in page and 'class="dataframe t"' in page and "<th>a</th>" in page and "<th></th>" not in page
    csv = page.split("data:text/csv;base64,")[1].split('"')[0]
    assert base64.b64decode(csv).decode() == t.to_csv(index=False)


def test_a_table_is_saved_as_its_csv_and_the_page_that_links_it(tmp_path):
    t = pd.DataFrame({"size": [128, 256], "tau": [0.5, np.nan]})
    save_table(t, tmp_path / "rank_correlation.csv", tmp_path / "pages" / "rank_correlation.html", "τ per scope")
    assert (tmp_path / "rank_correlation.csv").read_text() == "size,tau\n128,0.5\n256,\n"
    page = (tmp_path / "pages" / "rank_correlation.html").read_text()
    assert page == html_view(t, "τ per scope", "rank_correlation.csv")


# --- ranking ------------------------------------------------------------------------------------


def hand_table():
    rows = []
    for ckpt in ("acc1", "loss0"):
        for m, errs, vals in (("correct", [0.3, 0.2, 0.1], [3.0, 2.0, 1.0]), ("random", [0.9, 0.85, 0.8], [4, 5, 6])):
            for n, e, v in zip((100, 200, 400), errs, vals):
                rows.append(
                    dict(
                        size=n,
                        label_mode=m,
                        checkpoint=ckpt,
                        test_acc=1 - e,
                        train_acc=1.0,
                        l2_seed=float(v),
                        reached=True,
                        diverged=False,
                        margin=1.0,
                        seed=0,
                    )
                )
    return pd.DataFrame(rows)


def test_granulated_kendall_writes_every_row_exactly():
    g = granulated_kendall(hand_table(), ["size", "label_mode"])
    assert list(g.columns) == ["measure", "form", "checkpoint", "axis", "value", "n_slices"]
    expected = [("size", 0.0, 2), ("label_mode", 1.0, 3), ("Psi", 0.5, 2)]
    for ckpt in ("acc1", "loss0"):
        rows = g[g.checkpoint == ckpt]
        assert list(rows.measure) == ["l2_seed"] * 5 and list(rows.form) == ["raw"] * 5
        assert list(rows.axis) == ["size", "label_mode", "Psi", "CMI", "CMI_pgdl"]
        for axis, value, n in expected:
            r = rows[rows.axis == axis].iloc[0]
            assert (r.value, r.n_slices) == (pytest.approx(value), n)
        cmi = rows[rows.axis == "CMI"].iloc[0]
        assert 0 < cmi.value <= 1 and cmi.n_slices == 15


def test_cmi_edges_and_the_size_of_conditioning_sets():
    t = hand_table()
    t = t[t.checkpoint == "acc1"].reset_index(drop=True)
    err = 1 - t.test_acc
    assert conditional_mutual_information(t.iloc[:1], t.l2_seed.iloc[:1], err.iloc[:1], ["size"]) == (
        pytest.approx(np.nan, nan_ok=True),
        0,
    )
    assert conditional_mutual_information(t, t.l2_seed, err, []) == (pytest.approx(np.nan, nan_ok=True), 0)
    same = t.assign(size=100, label_mode="correct")  # no pair differs in an axis
    assert conditional_mutual_information(same, t.l2_seed, err, ["size", "label_mode"])[1] == 0
    with_nan = t.l2_seed.copy()
    with_nan.iloc[0] = np.nan
    assert conditional_mutual_information(t, with_nan, err, ["size", "label_mode"])[1] == 10  # 5 runs: 10 pairs
    # with three axes the minimum runs over sets of at most two: a measure that is a function of
    # (size, label_mode) is fully explained by that set, so its CMI is 0
    three = pd.concat([t.assign(lr=0.1), t.assign(lr=0.2, test_acc=t.test_acc - 0.01)], ignore_index=True)
    code = three["size"].astype(float) + 1000 * (three.label_mode == "random")
    assert conditional_mutual_information(three, code, 1 - three.test_acc, ["size", "label_mode", "lr"])[0] == 0


def test_rank_correlation_rows_counts_and_p_values():
    t = hand_table()
    t.loc[0, "reached"] = False
    tau = rank_correlations(t)
    assert list(tau.columns) == ["measure", "form", "scope", "tau", "p_value", "n", "left_out"]
    assert list(tau.scope) == [
        "all",
        "checkpoint=acc1",
        "checkpoint=loss0",
        "label_mode=correct,checkpoint=acc1",
        "label_mode=random,checkpoint=acc1",
        "label_mode=correct,checkpoint=loss0",
        "label_mode=random,checkpoint=loss0",
    ]
    first = tau.iloc[0]
    assert (first.measure, first.form, first.n, first.left_out) == ("l2_seed", "raw", 11, 1)
    assert 0 < first.p_value < 0.05
    cell = tau[tau.scope == "label_mode=correct,checkpoint=acc1"].iloc[0]
    assert (cell.n, cell.left_out) == (2, 1) and np.isnan(cell.tau)  # two runs: too few for τ there
    assert ranked_columns(t.assign(l2_seed_adj=1.0, margin=1.0)) == [
        ("l2_seed", "l2_seed", "raw"),
        ("l2_seed_adj", "l2_seed", "adjusted"),
    ]
    tau2, p, n = kendall([1, 2, 3], [1, 2, 3], min_n=3)
    assert (tau2, n) == (pytest.approx(1.0), 3) and np.isnan(kendall([1, 2], [1, 2])[0])
    assert kendall([1, 2], [1, 2], min_n=2)[0] == pytest.approx(1.0) and np.isnan(kendall([1, 1, 1], [1, 2, 3])[0])


# --- more edges, one per contract the mutation run showed unpinned ------------------------------


def test_weights_files_without_layers_or_with_broken_ones_name_the_file(tmp_path):
    np.savez(tmp_path / "w.npz", epoch=np.array(1))
    with pytest.raises(FileContractError, match=r"w.npz: missing arrays \['W1', 'b1'\]"):
        load_params(tmp_path / "w.npz")
    good = {k: v.astype(np.float32) for k, v in tiny_params(0, (5, 4, 3)).items()}
    np.savez(tmp_path / "c.npz", epoch=np.array(4), reached=np.array(True), **{**good, "b2": good["b2"][:1]})
    with pytest.raises(FileContractError, match=rf"{tmp_path / 'c.npz'}: inconsistent shapes W2"):
        load_checkpoint(tmp_path / "c.npz")


def test_object_arrays_are_never_pickled_into_an_npz(tmp_path):
    with pytest.raises(ValueError, match="pickle"):
        save_npz(tmp_path / "o.npz", x=np.array([{"a": 1}], dtype=object))
    assert not list(tmp_path.iterdir())  # nothing left behind


def test_a_named_dataset_is_checked_against_its_declared_shape_and_classes(monkeypatch):
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 255, (6, 2, 2)), np.array([0, 1, 2, 3, 0, 1])

    def declare(loaded):
        monkeypatch.setitem(DATASETS, "toy", Dataset("toy", lambda: loaded, (2, 2), 10, 6, True))

    declare((x, y, x[:4], y[:4]))
    s = load_dataset("toy")
    assert s.n_classes == 10 and s.image_shape == (2, 2)  # declared, not read off the labels (max 3)
    for loaded, why in [
        ((x.reshape(6, 4)[:, :3], y, x[:4], y[:4]), r"toy: x_train: expected images of shape \(N, 2, 2\)"),
        ((x, y, x[:4, :1], y[:4]), r"toy: x_test: expected images of shape \(N, 2, 2\)"),
        ((x, y + 7, x[:4], y[:4]), r"toy: y_train: labels must lie in 0..9, found 7..10"),
        ((x, y, x[:4], y[:4] + 7), r"toy: y_test: labels must lie in 0..9, found 7..10"),
    ]:
        declare(loaded)
        with pytest.raises(DatasetError, match=why):
            load_dataset("toy")


def test_a_user_dataset_names_the_split_with_bad_labels(tmp_path):
    x = np.ones((4, 2, 2), np.uint8)
    np.savez(tmp_path / "d.npz", x_train=x, y_train=np.array([0, -1, 1, 1]), x_test=x, y_test=np.arange(4))
    with pytest.raises(DatasetError, match=rf"{tmp_path / 'd.npz'}: y_train: labels must lie in non-negative"):
        load_dataset(str(tmp_path / "d.npz"))


def test_labels_are_drawn_and_returned_as_integers():
    from genstudy.data import make_labels

    y = make_labels(np.array([1.0, 2.0, 0.0]), "correct", 0, 3)
    assert y.dtype == np.int64 and y.tolist() == [1, 2, 0]


def _python2_pickle(obj) -> bytes:
    """``obj`` pickled as Python 2 pickled CIFAR-10's batches: protocol 2, every bytes object
    (the dict's keys, the array's raw data) a Python 2 ``str``, which Python 3 reads back as
    bytes only when told ``encoding="bytes"``."""
    import io
    import pickle
    import struct

    class Python2Pickler(pickle._Pickler):
        dispatch = dict(pickle._Pickler.dispatch)

        def save_str2(self, value):
            self.write(pickle.BINSTRING + struct.pack("<i", len(value)) + value)
            self.memoize(value)

        dispatch[bytes] = save_str2

    out = io.BytesIO()
    Python2Pickler(out, protocol=2).dump(obj)
    return out.getvalue()


def test_keras_datasets_are_read_from_keras_download_cache(tmp_path, monkeypatch):
    """The cached files, laid out as the Keras in the lock leaves them, read without Keras:
    Fashion-MNIST's gzipped idx files, CIFAR-10's pickled batches (planes to channels-last)
    and mnist.npz."""
    import gzip
    import pickle

    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    folder = tmp_path / "datasets" / "fashion-mnist"
    folder.mkdir(parents=True)
    for split, n in (("train", 5), ("t10k", 3)):
        (folder / f"{split}-labels-idx1-ubyte.gz").write_bytes(gzip.compress(bytes(8) + bytes(range(n))))
        images = np.arange(n * 784).reshape(n, 28, 28) % 251
        (folder / f"{split}-images-idx3-ubyte.gz").write_bytes(
            gzip.compress(bytes(16) + images.astype(np.uint8).tobytes())
        )
    assert DATASETS["fashion_mnist"].cached()
    s = load_dataset("fashion_mnist")
    assert (s.x_train.shape, s.y_train.tolist(), s.x_test.shape, s.y_test.tolist()) == (
        (5, 784),
        [0, 1, 2, 3, 4],
        (3, 784),
        [0, 1, 2],
    )
    np.testing.assert_array_equal(s.x_test, (np.arange(3 * 784).reshape(3, 784) % 251 / 255.0).astype(np.float32))

    folder = tmp_path / "datasets" / "cifar-10-batches-py-target" / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    batches = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batches[name] = {
            b"data": rng.integers(0, 256, (2, 3072)).astype(np.uint8),
            b"labels": [int(rng.integers(10)), 9],
        }
        (folder / name).write_bytes(_python2_pickle(batches[name]))
    assert DATASETS["cifar10"].cached()
    s = load_dataset("cifar10")
    assert s.x_train.shape == (10, 3072) and s.y_test.tolist() == batches["test_batch"][b"labels"]
    assert s.y_train.tolist() == [y for i in range(1, 6) for y in batches[f"data_batch_{i}"][b"labels"]]
    data = batches["data_batch_2"][b"data"][1]  # the 4th training image: planes R, G, B of 32 × 32
    for row, col, channel in ((0, 0, 0), (3, 7, 1), (31, 30, 2)):
        assert s.x_train[3, (row * 32 + col) * 3 + channel] == np.float32(data[channel * 1024 + row * 32 + col] / 255)
    (folder / "test_batch").write_bytes(pickle.dumps({b"data": os.system}))  # anything but arrays is refused
    with pytest.raises(pickle.UnpicklingError, match="not allowed in a CIFAR batch"):
        load_dataset("cifar10")

    x = np.ones((4, 28, 28), np.uint8)
    np.savez(tmp_path / "datasets" / "mnist.npz", x_train=x, y_train=np.arange(4), x_test=x[:2], y_test=np.arange(2))
    assert load_dataset("mnist").y_train.tolist() == [0, 1, 2, 3]


def test_a_keras_dataset_missing_from_the_cache_is_downloaded_by_its_keras_loader(tmp_path, monkeypatch):
    """Keras' own loader (here a stand-in: this machine cannot reach Keras' hosts) is asked to
    download the missing dataset, by name, once; the file it leaves is what is read."""
    import types

    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    calls = []

    def download():
        calls.append("mnist")
        x = np.full((3, 28, 28), 255, np.uint8)
        (tmp_path / "datasets").mkdir()
        np.savez(
            tmp_path / "datasets" / "mnist.npz",
            x_train=x,
            y_train=np.array([7, 8, 9]),
            x_test=x[:1],
            y_test=np.array([1]),
        )

    keras = types.SimpleNamespace(datasets=types.SimpleNamespace(mnist=types.SimpleNamespace(load_data=download)))
    monkeypatch.setitem(sys.modules, "keras", keras)
    assert not DATASETS["mnist"].cached()
    s = load_dataset("mnist")
    assert calls == ["mnist"] and s.y_train.tolist() == [7, 8, 9] and s.x_test.shape == (1, 784)
    assert load_dataset("mnist").y_test.tolist() == [1] and calls == ["mnist"]  # cached now: no second download


def test_npz_headers_read_both_npy_header_versions(tmp_path):
    with zipfile.ZipFile(tmp_path / "v.npz", "w") as zf:
        for name, version in (("x_train", (1, 0)), ("y_train", (2, 0))):
            with zf.open(f"{name}.npy", "w") as f:
                np.lib.format.write_array(f, np.zeros((3, 2), np.float32), version=version)
    assert npz_headers(tmp_path / "v.npz") == {"x_train": ((3, 2), "<f4"), "y_train": ((3, 2), "<f4")}


def test_reachable_connects_to_https_and_gives_up_after_its_timeout(tmp_path):
    import fcntl

    from genstudy.datasets import reachable

    # one test process at a time may hold port 443 (mutation testing runs tests in parallel)
    lock = open(Path(os.environ.get("TMPDIR", "/tmp")) / "genstudy-port-443.lock", "w")  # noqa: SIM115 (held until the test ends)
    fcntl.flock(lock, fcntl.LOCK_EX)
    server = socket.socket()
    try:
        server.bind(("127.0.0.1", 443))
    except OSError as exc:
        server.close()
        pytest.skip(f"cannot listen on port 443 here ({exc})")
    with lock:
        with server:
            server.listen(0)
            assert reachable("127.0.0.1")  # queued by the kernel: the host answers
            # the one-slot backlog is now full, so the next handshake gets no answer: a silent host
            began = time.monotonic()
            assert not reachable("127.0.0.1", timeout=0.3)
            assert time.monotonic() - began < 5
        assert not reachable("127.0.0.1", timeout=0.3)  # nothing listens: refused


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


def test_classes_absent_from_a_split_are_reported(tmp_path, monkeypatch):
    x = np.ones((6, 2, 2), np.uint8)
    np.savez(
        tmp_path / "d.npz", x_train=x, y_train=np.array([0, 1, 3, 0, 1, 3]), x_test=x[:3], y_test=np.array([1, 2, 3])
    )
    path = str(tmp_path / "d.npz")
    cfg = {
        **DEFAULT,
        "dataset": path,
        "sizes": [4],
        "test_size": 3,
        "model": {"hidden": [4]},
        "train": {**DEFAULT["train"], "batch_size": 4},
        "measures": {**DEFAULT["measures"], "top_k": 5},
    }
    got = check_config(cfg)
    assert got["n_classes"] == 4 and got["warnings"] == [
        f"dataset: {path}: classes [2] of 0..3 never occur in y_train",
        f"dataset: {path}: classes [0] of 0..3 never occur in y_test",
    ]
    monkeypatch.setitem(sys.modules, "genstudy.data", None)  # a bare Snakemake environment: no numpy
    assert check_config(cfg)["warnings"] == [
        f"dataset: {path} is checked by the prepare_data job (numpy is not installed here)"
    ]


def test_top_k_is_checked_against_the_parameters_of_each_network():
    from genstudy.config import check_memory

    cfg = {**DEFAULT, "model": {"hidden": [1]}}
    for n_classes, n_params in ((3, 4 + 1 + 3 + 3), (None, 4 + 1 + 10 + 10)):  # unknown K: 10
        shape = {"n_features": 4, "n_classes": n_classes}
        check_memory({**cfg, "measures": {**cfg["measures"], "top_k": n_params}}, shape, 1e9)  # equal: fine
        with pytest.raises(ConfigError, match=rf"measures.top_k \({n_params + 1}\) exceeds"):
            check_memory({**cfg, "measures": {**cfg["measures"], "top_k": n_params + 1}}, shape, 1e9)


def test_a_dataset_without_examples_has_an_empty_pool(tmp_path):
    np.savez(
        tmp_path / "s.npz", x_train=np.array(5.0), y_train=np.array(1), x_test=np.zeros((1, 1)), y_test=np.zeros(1)
    )
    assert dataset_shape(str(tmp_path / "s.npz"), 10) == {"pool_size": 0, "n_features": 1, "n_classes": None}


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


# --- flatness and norms -------------------------------------------------------------------------


def test_the_pacbayes_search_ends_at_the_ends_of_its_bracket():
    """One class: no noise changes an argmax, so the accuracy never drops and the search
    climbs to the top bracket, or (for a target below zero) falls to the bottom one."""
    from genstudy.flatness import SIGMA_UPPER, pacbayes_sigma

    rng = np.random.default_rng(0)
    params = {
        "W1": rng.standard_normal((3, 4)),
        "b1": np.zeros(4),
        "W2": rng.standard_normal((4, 1)),
        "b2": np.zeros(1),
    }
    x, y = rng.standard_normal((8, 3)), np.zeros(8, int)
    kw = dict(draws=2, halvings=6, epsilon=1e-3, noise="isotropic")
    top = pacbayes_sigma(params, x, y, np.random.default_rng(1), target_drop=0.0, **kw)
    assert top == SIGMA_UPPER * (1 - 2.0**-7)  # a drop of exactly 0 is not more than 0
    assert pacbayes_sigma(params, x, y, np.random.default_rng(1), target_drop=-1.0, **kw) == SIGMA_UPPER * 2.0**-7


def test_norms_are_computed_in_float64_from_float32_weights():
    from genstudy.norms import distance_to_init, frobenius_norms

    rng = np.random.default_rng(0)
    params = {
        k: (1 + rng.random(s)).astype(np.float32)
        for k, s in (("W1", (300, 200)), ("b1", (200,)), ("W2", (200, 10)), ("b2", (10,)))
    }
    params0 = {k: (v * np.float32(0.999)).astype(np.float32) for k, v in params.items()}
    exact = [math.sqrt(math.fsum(float(w) ** 2 for w in params[k].ravel())) for k in ("W1", "W2")]
    assert frobenius_norms(params) == pytest.approx(exact, rel=1e-13)
    diff = math.sqrt(
        math.fsum((float(a) - float(b)) ** 2 for k in params for a, b in zip(params[k].ravel(), params0[k].ravel()))
    )
    assert distance_to_init(params, params0) == pytest.approx(diff, rel=1e-13)


# --- ranking ------------------------------------------------------------------------------------


def brute_force_cmi(rows: list[dict], v, e, axes):
    """Jiang et al.'s criterion from entropies: min over S of (H(G|U_S) − H(G|U_S, M)) / H(G|U_S),
    over ordered pairs of runs that differ in some axis, S of at most two axes and not all."""
    from collections import Counter

    def sign(z):
        return int(np.sign(z))

    pairs = [
        (i, j)
        for i in range(len(rows))
        for j in range(len(rows))
        if i != j and any(rows[i][a] != rows[j][a] for a in axes)
    ]
    best = math.inf
    for size in range(min(2, len(axes) - 1) + 1):
        for s in itertools.combinations(axes, size):
            obs = [(tuple((rows[i][a], rows[j][a]) for a in s), sign(v[i] - v[j]), sign(e[i] - e[j])) for i, j in pairs]
            n = len(obs)

            def cond_entropy(key, obs=obs, n=n):
                joint, given = Counter((key(o), o[2]) for o in obs), Counter(key(o) for o in obs)
                return -sum(c / n * math.log(c / given[k]) for (k, _), c in joint.items())

            h_u = cond_entropy(lambda o: o[0])
            if h_u > 0:
                best = min(best, (h_u - cond_entropy(lambda o: (o[0], o[1]))) / h_u)
    return (best if best < math.inf else math.nan), len(pairs) // 2


@pytest.mark.parametrize("n_axes", [1, 2, 3, 4])
def test_cmi_equals_a_brute_force_over_pairs_and_conditioning_sets(n_axes):
    rng = np.random.default_rng(n_axes)
    axes = ["a", "b", "c", "d"][:n_axes]
    t = pd.DataFrame({a: rng.integers(0, 2, 14) for a in axes})
    v, e = np.round(rng.random(14), 1), np.round(t.sum(axis=1) / 4 + rng.random(14) / 3, 1)
    got, pairs = conditional_mutual_information(t, pd.Series(v), pd.Series(e), axes)
    want, want_pairs = brute_force_cmi(t.to_dict("records"), v, e, axes)
    assert got == pytest.approx(want, abs=1e-12) and pairs == want_pairs and type(pairs) is int


def test_cmi_is_undefined_when_the_error_never_changes_sign_within_a_condition():
    t = pd.DataFrame({"size": [1, 2, 3, 4]})
    assert np.isnan(conditional_mutual_information(t, pd.Series([1.0, 2, 3, 4]), pd.Series([0.5] * 4), ["size"])[0])


def test_granulated_psi_slices():
    from genstudy.ranking import granulated_psi

    err = pd.Series([0.1, 0.2, 0.3, 0.4])
    one_axis = pd.DataFrame({"size": [1, 2, 3, 4], "seed": 0})
    values = pd.Series([1.0, 2.0, 4.0, 3.0])
    assert granulated_psi(one_axis, values, err, "size", ["size"]) == (pytest.approx(kendall(values, err)[0]), 1)
    nan_other = pd.DataFrame({"size": [1, 2, 1, 2], "lr": [0.1, 0.1, np.nan, np.nan], "seed": 0})
    assert granulated_psi(nan_other, values, err, "size", ["size", "lr"])[1] == 2  # NaN is a value: its own slice
    seeds_only = pd.DataFrame(
        {"size": [1, 2, 1, 1], "lr": [0.1, 0.1, 0.2, 0.2], "seed": [0, 0, 0, 1]}
    )  # lr 0.2: one size
    assert granulated_psi(seeds_only, values, err, "size", ["size", "lr"]) == (1.0, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no slice: NaN, without numpy's warning about an empty mean
        assert granulated_psi(seeds_only.assign(size=1), values, err, "size", ["size", "lr"])[1] == 0
        g = granulated_kendall(hand_table().assign(size=100, label_mode="correct"), ["size", "label_mode"])
    assert g[g.axis == "Psi"].value.isna().all() and (g[g.axis == "Psi"].n_slices == 0).all()


def test_kendall_ignores_missing_values_on_either_side():
    assert kendall([1, None, 3, 4, 5], [1, 2, 3, 4, None]) == (pytest.approx(1.0), pytest.approx(1 / 3), 3)


def test_ranking_tables_keep_their_columns_when_nothing_is_ranked():
    t = hand_table().drop(columns=["l2_seed", "margin"])
    assert list(rank_correlations(t).columns) == ["measure", "form", "scope", "tau", "p_value", "n", "left_out"]
    assert list(granulated_kendall(t, ["size"]).columns) == [
        "measure",
        "form",
        "checkpoint",
        "axis",
        "value",
        "n_slices",
    ]


def test_each_checkpoint_scope_holds_that_checkpoint_s_runs():
    from genstudy.ranking import test_error

    t = hand_table()
    t.loc[t.checkpoint == "loss0", "l2_seed"] = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    assert np.allclose(test_error(t), 1 - t.test_acc)
    tau = rank_correlations(t).set_index("scope").tau
    for ckpt in ("acc1", "loss0"):
        rows = t[t.checkpoint == ckpt]
        assert tau[f"checkpoint={ckpt}"] == pytest.approx(kendall(rows.l2_seed, 1 - rows.test_acc)[0])
    assert tau["checkpoint=acc1"] != pytest.approx(tau["checkpoint=loss0"])


def test_cmi_conditions_on_at_most_two_axes():
    """A measure that is a function of three of four axes is explained by those three, but
    the criterion conditions on at most two, so some information is left."""
    grid = pd.DataFrame(list(itertools.product([0, 1], repeat=4)), columns=list("abcd"))
    v = grid.a + 2 * grid.b + 4 * grid.c
    e = 0.1 * (grid.a + grid.b + grid.c) + 0.01 * np.random.default_rng(0).random(16)
    got, _ = conditional_mutual_information(grid, v.astype(float), e, list("abcd"))
    assert got > 0.05 and got == pytest.approx(brute_force_cmi(grid.to_dict("records"), v, e, list("abcd"))[0])


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


def test_a_table_too_large_for_the_report_is_shown_from_its_first_rows_and_names_its_csv():
    # the report opens each page as a data: URL, which Chromium refuses beyond 2 MB (a blank frame)
    t = pd.DataFrame({"measure": [f"m{i}" for i in range(5000)], "value": np.linspace(0, 1, 5000)})
    assert "data:text/csv" in html_view(t, "T", "t.csv")  # fits: unchanged
    page = html_view(t, "T", "t.csv", page_bytes=60_000)
    assert len(page.encode()) <= 60_000 and "data:text/csv" not in page and "<code>tables/t.csv</code>" in page
    shown = page.count("<tr>")  # body rows (the header row carries a style)
    assert 100 < shown < 5000 and f"the first {shown} of 5000 rows" in page
    assert "<td>m0</td>" in page and f"<td>m{shown - 1}</td>" in page and f"<td>m{shown}</td>" not in page
