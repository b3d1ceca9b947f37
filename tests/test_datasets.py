"""The dataset table (genstudy.datasets): declared shapes, offline caches, npz headers, reachability."""

import os
import socket
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
import yaml

from genstudy.config import (
    ConfigError,
    check_config,
    check_dataset_available,
    dataset_shape,
)
from genstudy.data import load_dataset
from genstudy.datasets import DATASETS, Dataset, DatasetError, keras_home, npz_headers
from helpers import ROOT

DEFAULT = yaml.safe_load((ROOT / "config.yaml").read_text())


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
