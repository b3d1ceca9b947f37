"""Edges of the numpy layer, each against its contract: the boundaries of every check, the exact
bytes and text of what is written, the exact rows of the ranking tables. Written to kill what
mutation testing (`make mutation`) showed the other tests let through."""
import hashlib
import json
import math
import os
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import ROOT, tiny_params
from genstudy import arrays
from genstudy.arrays import (FileContractError, load_checkpoint, load_npz, load_params, load_subset, save_json,
                             save_npz)
from genstudy.config import (ConfigError, check_config, check_dataset_available, dataset_shape, machine_memory_mb,
                             read_config_file, typed_config)
from genstudy.data import DataError, check_labels, load_dataset, prepare_pool_and_test, scale_images, stratified_split
from genstudy.data import subset as draw_subset
from genstudy.datasets import DATASETS, Dataset, keras_home, npz_headers
from genstudy.ranking import (conditional_mutual_information, granulated_kendall, kendall, rank_correlations,
                              ranked_columns)
from genstudy.registry import adjusted, columns
from genstudy.resources import job_resources, measures_memory_mb, measures_runtime_min, train_memory_mb
from genstudy.study import arch_columns, runs, varying_axes
from genstudy.tables import html_view, read_training

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
        assert all(i.date_time == (1980, 1, 1, 0, 0, 0) and i.external_attr == 0o644 << 16
                   and i.compress_type == zipfile.ZIP_STORED for i in infos)
    digest = hashlib.sha256((tmp_path / "a.npz").read_bytes()).hexdigest()
    assert digest == "ab62ca19e8bdda847507fcf4ed39de09c8c73b148db412e21dfd02b27d3a793a"
    save_npz(tmp_path / "b.npz", a=np.eye(2, dtype=np.float32), b=np.arange(3, dtype=np.int64))
    assert (tmp_path / "b.npz").read_bytes() == (tmp_path / "a.npz").read_bytes()  # keyword order is irrelevant


def test_writes_are_atomic_hidden_temporaries_in_the_target_folder(tmp_path, monkeypatch):
    moves = []
    real_replace = os.replace
    monkeypatch.setattr(arrays.os, "replace", lambda src, dst: (moves.append((Path(src), Path(dst))),
                                                                real_replace(src, dst))[1])
    target = tmp_path / "new" / "deeper" / "x.json"  # parent folders are created
    save_json(target, {"b": 1, "a": [1, float("nan")]})
    (src, dst), = moves
    assert dst == target and src.parent == target.parent
    assert src.name.startswith(".x.json.") and src.name.endswith(".tmp") and not src.exists()
    assert target.read_text() == '{\n  "a": [\n    1,\n    NaN\n  ],\n  "b": 1\n}\n'
    assert list(target.parent.iterdir()) == [target]


def test_npz_readers_refuse_pickles_and_malformed_layers(tmp_path):
    np.savez(tmp_path / "obj.npz", x=np.array([{"a": 1}], dtype=object))
    with pytest.raises(FileContractError, match=r"obj.npz: unreadable or truncated npz file"):
        load_npz(tmp_path / "obj.npz")
    good = {k: v.astype(np.float32) for k, v in tiny_params(0, (5, 4, 3)).items()}
    for broken, why in [({**good, "W1": good["W1"][None]}, r"inconsistent shapes W1 \(1, 5, 4\)"),
                        ({**good, "b1": good["b1"][:3]}, r"inconsistent shapes W1 \(5, 4\), b1 \(3,\)"),
                        ({**good, "W2": good["W2"][:3]}, r"inconsistent shapes W2 \(3, 3\)"),
                        ({k: v for k, v in good.items() if k != "b2"}, r"missing arrays \['b2'\]")]:
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
    for key, bad in (("x", np.zeros((n, 2, 2))), ("y", np.arange(n - 1)), ("y_true", np.zeros((n, 1))),
                     ("index", np.arange(n + 1))):
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
    np.testing.assert_array_equal(scale_images(np.array([[0.0, 1.5]]), "s"), np.float32([[0.0, 1.5 / 255]]))
    assert scale_images(np.full((1, 2), 255.0), "s").max() == 1.0
    with pytest.raises(DataError, match=r"s: pixel values above 255 \(max 256.0\)"):
        scale_images(np.full((1, 2), 256.0), "s")
    assert scale_images(np.ones((1, 3, 2, 2), bool), "s").shape == (1, 12)  # one image, colour, booleans
    assert scale_images(np.ones((2, 5, 5), np.int16), "s", (5, 5)).dtype == np.float32
    assert scale_images(np.ones((2, 25)), "s", (5, 5)).shape == (2, 25)
    for bad, why in [(np.zeros((0, 4)), "non-empty"), (np.array([["a", "b"]]), "numeric pixel values, got dtype <U1"),
                     (np.array([[-1.0, 0.0]]), r"non-negative \(min -1.0\)"), (np.array([[np.inf]]), "finite")]:
        with pytest.raises(DataError, match=why):
            scale_images(bad, "s")


def test_labels_are_checked_at_every_boundary():
    np.testing.assert_array_equal(check_labels(np.array([[2], [0]]), 2, "y", 3), [2, 0])  # a column: flattened
    assert check_labels(np.array([2.0, 0.0]), 2, "y", 3).dtype == np.int64
    assert check_labels(np.array([0, 2]), 2, "y", 3).tolist() == [0, 2]  # the largest class, K − 1
    for bad, n, k, why in [(np.array([[1, 2], [0, 1]]), 2, 3, r"y: expected labels of shape \(2,\)"),
                           (np.array([0, 1, 2]), 2, 3, r"shape \(2,\) to match the images, got \(3,\)"),
                           (np.array([0.5, 1.0]), 2, 3, "fractional or non-finite"),
                           (np.array([np.nan, 1.0]), 2, 3, "fractional or non-finite"),
                           (np.array([0, 3]), 2, 3, r"must lie in 0..2, found 0..3"),
                           (np.array([-1, 0]), 2, None, r"must lie in non-negative, found -1..0"),
                           (np.array(["0", "1"]), 2, 3, r"got dtype <U1")]:
        with pytest.raises(DataError, match=why):
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
    for bad in (0, 10):
        with pytest.raises(DataError, match=rf"test_size must be between 1 and 9, got {bad}"):
            stratified_split(y, bad, 0)


def test_a_subset_may_take_the_whole_pool_and_uses_the_dataset_s_classes():
    x = np.arange(20, dtype=np.float64).reshape(10, 2)
    y = np.arange(10) % 3
    whole = draw_subset(x, y, "random", 0, 10, 3)
    assert sorted(whole["index"]) == list(range(10)) and whole["x"].dtype == np.float32
    assert set(whole["y"]) <= {0, 1, 2} and not np.array_equal(whole["y"], draw_subset(x, y, "random", 1, 10, 3)["y"])
    with pytest.raises(DataError, match=r"size 11 exceeds the training pool \(10 examples\)"):
        draw_subset(x, y, "random", 0, 11, 3)


def test_an_official_test_split_is_kept_whole_at_its_size(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 255, (30, 4, 4)).astype(np.uint8)
    np.savez(tmp_path / "d.npz", x_train=x, y_train=np.arange(30) % 3, x_test=x[:12], y_test=np.arange(12) % 3)
    *_, xt, yt, s = prepare_pool_and_test(str(tmp_path / "d.npz"), 12, 0)
    np.testing.assert_array_equal(yt, np.arange(12) % 3)  # all of it, in its order
    assert (s.n_classes, s.image_shape) == (3, (4, 4)) and len(prepare_pool_and_test(str(tmp_path / "d.npz"), 11, 0)[3]) == 11
    np.savez(tmp_path / "e.npz", x_train=x, y_train=np.arange(30) % 3, x_test=x[:12], y_test=np.arange(12) % 3 + 5)
    assert load_dataset(str(tmp_path / "e.npz")).n_classes == 8  # K from the largest label of either split
    np.savez(tmp_path / "f.npz", x_train=x, y_train=np.arange(30) % 3, x_test=x[:12], y_test=np.full(12, -1))
    with pytest.raises(DataError, match=rf"{tmp_path / 'f.npz'}: y_test: labels must lie in"):
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
    meminfo = int(next(line for line in Path("/proc/meminfo").read_text().splitlines()
                       if line.startswith("MemTotal")).split()[1]) / 2**20
    assert abs(gib - meminfo) / meminfo < 0.05
    need = job_resources("measures", 1024, [64, 64], 1, base, {"n_features": 784, "n_classes": 10})["mem_mb"]
    check_config({**base, "max_job_memory_gb": need / 1024 + 0.01})  # just enough
    with pytest.raises(ConfigError, match=r"needs about [\d.]+ GiB in a measures job at n = 1024, more than the "
                                          r"[\d.]+ GiB allowed"):
        check_config({**base, "max_job_memory_gb": need / 1024 - 0.01})
    with pytest.raises(ConfigError, match=r"measures.top_k \(60\) exceeds the number of parameters of model.hidden "
                                          r"\[1\]"):
        check_config({**base, "dataset": "x.npz", "model": {"hidden": [1]}, "measures": {**m, "top_k": 60}}
                     | {"dataset": _tiny_npz(tmp_path), "sizes": [16], "test_size": 10,
                        "train": {**base["train"], "batch_size": 16}})


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
    schema = {"type": "object", "properties": {
        "flag": {"type": "boolean"}, "n": {"anyOf": [{"type": "integer"}, {"type": "array", "items": {"type": "integer"}}]},
        "either": {"type": ["number", "null"]}}}
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
    assert adjusted(0.0, 4, "sqrt") == 0.0 and adjusted(float("inf"), 4, "sqrt") is None
    assert adjusted(1.0, 4, "log") == pytest.approx(-0.5 * math.log(4))


def test_study_runs_and_axes_carry_every_value():
    cfg = json.loads(json.dumps(DEFAULT))
    cfg.update(sizes=[32], seeds=[5], label_modes=["wrong"],
               train={**cfg["train"], "learning_rate": 0.01, "batch_size": 16, "protocol": "carry_optimizer"})
    (r,) = runs(cfg)
    assert (r.label_mode, r.hidden, r.learning_rate, r.batch_size, r.protocol, r.size, r.seed) == (
        "wrong", (64, 64), 0.01, 16, "carry_optimizer", 32, 5)
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
        900 + ((2 * 100 + 50) * 784 * 4 + 8 * p * 4 + 6 * 150 * (64 + 64 + 10) * 4) / 2**20)
    assert measures_memory_mb(100, 784, sizes, 60) == pytest.approx(
        900 + (100 * 784 * 8 + 70 * p * 8 + 6 * 100 * 138 * 8 + 250 * 10 * 784 * 8 * 3) / 2**20)
    assert measures_runtime_min(1000, sizes, 100, 2) == pytest.approx(
        max(5.0, 10 * (30 + 2 * 100 * 8 * 5e-11 * p * 1000) / 60))
    assert measures_runtime_min(10**7, sizes, 300, 2) > 5.0
    cfg = json.loads(json.dumps(DEFAULT))
    train = job_resources("train", 1024, [64, 64], 1, cfg, {"n_features": 784, "n_classes": None})
    assert train["mem_mb"] == int(1.5 * train_memory_mb(1024, 1000, 784, sizes))


def test_the_training_table_reader_checks_columns_and_types(tmp_path):
    from genstudy.runs import TRAINING_COLUMNS

    row = {c: 1 for c in TRAINING_COLUMNS} | {"hidden": "64", "label_mode": "correct", "protocol": "independent",
                                              "checkpoint": "acc1"}
    pd.DataFrame([row]).to_csv(tmp_path / "t.csv", index=False)
    t = read_training(tmp_path / "t.csv")
    assert t.hidden.iloc[0] == "64" and t.protocol.iloc[0] == "independent" and list(t.columns) == list(TRAINING_COLUMNS)
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


# --- ranking ------------------------------------------------------------------------------------

def hand_table():
    rows = []
    for ckpt in ("acc1", "loss0"):
        for m, errs, vals in (("correct", [0.3, 0.2, 0.1], [3.0, 2.0, 1.0]), ("random", [0.9, 0.85, 0.8], [4, 5, 6])):
            for n, e, v in zip((100, 200, 400), errs, vals):
                rows.append(dict(size=n, label_mode=m, checkpoint=ckpt, test_acc=1 - e, l2_seed=float(v),
                                 reached=True, diverged=False, margin=1.0))
    return pd.DataFrame(rows)


def test_granulated_kendall_writes_every_row_exactly():
    g = granulated_kendall(hand_table(), ["size", "label_mode"])
    assert list(g.columns) == ["measure", "form", "checkpoint", "axis", "value", "n_slices"]
    expected = [("size", 0.0, 2), ("label_mode", 1.0, 3), ("Psi", 0.5, 2)]
    for ckpt in ("acc1", "loss0"):
        rows = g[g.checkpoint == ckpt]
        assert list(rows.measure) == ["l2_seed"] * 4 and list(rows.form) == ["raw"] * 4
        assert list(rows.axis) == ["size", "label_mode", "Psi", "CMI"]
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
        pytest.approx(np.nan, nan_ok=True), 0)
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
    assert list(tau.scope) == ["all", "checkpoint=acc1", "checkpoint=loss0", "label_mode=correct,checkpoint=acc1",
                               "label_mode=random,checkpoint=acc1", "label_mode=correct,checkpoint=loss0",
                               "label_mode=random,checkpoint=loss0"]
    first = tau.iloc[0]
    assert (first.measure, first.form, first.n, first.left_out) == ("l2_seed", "raw", 11, 1)
    assert 0 < first.p_value < 0.05
    cell = tau[tau.scope == "label_mode=correct,checkpoint=acc1"].iloc[0]
    assert (cell.n, cell.left_out) == (2, 1) and np.isnan(cell.tau)  # two runs: too few for τ there
    assert ranked_columns(t.assign(l2_seed_adj=1.0, margin=1.0)) == [("l2_seed", "l2_seed", "raw"),
                                                                       ("l2_seed_adj", "l2_seed", "adjusted")]
    tau2, p, n = kendall([1, 2, 3], [1, 2, 3], min_n=3)
    assert (tau2, n) == (pytest.approx(1.0), 3) and np.isnan(kendall([1, 2], [1, 2])[0])
    assert kendall([1, 2], [1, 2], min_n=2)[0] == pytest.approx(1.0) and np.isnan(kendall([1, 1, 1], [1, 2, 3])[0])
