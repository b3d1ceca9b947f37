"""The file layer (genstudy.arrays): exact bytes, atomic writes, and files refused naming the file."""

import hashlib
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest

from genstudy import arrays
from genstudy.arrays import (
    FileContractError,
    load_checkpoint,
    load_json,
    load_npz,
    load_params,
    load_subset,
    save_json,
    save_npz,
)
from genstudy.datasets import DatasetError, npz_headers
from helpers import tiny_params


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


def test_files_that_are_not_npz_archives_say_what_they_are(tmp_path):
    (tmp_path / "notes.npz").write_text("x_train, y_train\n1, 2\n")
    with pytest.raises(DatasetError, match=r"notes.npz is not a zip archive"):
        npz_headers(tmp_path / "notes.npz")
    np.save(tmp_path / "array.npy", np.zeros(3))
    with pytest.raises(DatasetError, match=r"array.npy is a single numpy array \(.npy\), not an .npz archive"):
        npz_headers(tmp_path / "array.npy")


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
