"""Dataset arrays, the pool/test split, labels and nested subsets.

Every random choice takes an explicit seed and a named stream, so the same config
always yields the same arrays whatever else changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .datasets import DATASETS, DatasetError, read_npz_splits
from .labels import draw_labels
from .seeds import STREAM_LABELS, STREAM_PERMUTATION, STREAM_SPLIT, rng_for


def scale_images(x, source: str, image_shape: tuple | None = None) -> np.ndarray:
    """Images (N, H, W), (N, H, W, C) or (N, D) as (N, D) float32 in [0, 1].

    Pixel values in [0, 1] are kept; otherwise they must be 8-bit intensities (whole numbers
    0..255), which are divided by 255. Anything else (e.g. floats in [0, 1.5]) is refused: no
    scale can be inferred from it.
    With ``image_shape`` the images must have that shape (or be flattened to its size).
    """
    x = np.asarray(x)
    if x.dtype.kind not in "biuf":
        raise DatasetError(f"{source}: expected numeric pixel values, got dtype {x.dtype}")
    if x.ndim not in (2, 3, 4) or len(x) == 0:
        raise DatasetError(
            f"{source}: expected a non-empty array of images (N, H, W), (N, H, W, C) or (N, D), got shape {x.shape}"
        )
    if image_shape is not None and x.shape[1:] not in (tuple(image_shape), (int(np.prod(image_shape)),)):
        flat = int(np.prod(image_shape))
        raise DatasetError(
            f"{source}: expected images of shape (N, {', '.join(map(str, image_shape))}) or (N, {flat}), got {x.shape}"
        )
    x = x.reshape(len(x), -1).astype(np.float64)
    if not np.isfinite(x).all():
        raise DatasetError(f"{source}: pixel values must be finite (found NaN or infinity)")
    if x.min() < 0:
        raise DatasetError(f"{source}: pixel values must be non-negative (min {x.min()})")
    if x.max() > 1.0:
        if x.max() > 255.0:
            raise DatasetError(f"{source}: pixel values above 255 (max {x.max()})")
        if np.any(np.mod(x, 1) != 0):
            raise DatasetError(
                f"{source}: pixel values in [0, {x.max():g}] with fractions: neither in [0, 1] nor 8-bit "
                "intensities (whole numbers 0..255); rescale them to one of the two"
            )
        x = x / 255.0
    return x.astype(np.float32)


def check_labels(y, n: int, source: str, n_classes: int | None = None) -> np.ndarray:
    """Integer class labels of shape (n,), in 0..n_classes − 1 when that is given."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1 or len(y) != n:
        raise DatasetError(f"{source}: expected labels of shape ({n},) to match the images, got {y.shape}")
    if y.dtype.kind not in "biuf":
        raise DatasetError(f"{source}: labels must be integers 0..K-1, got dtype {y.dtype}")
    if y.dtype.kind == "f" and not (np.isfinite(y).all() and np.all(np.mod(y, 1) == 0)):
        raise DatasetError(f"{source}: labels must be integers 0..K-1 (found fractional or non-finite values)")
    y = y.astype(np.int64)
    high = n_classes - 1 if n_classes is not None else None
    if y.size and (y.min() < 0 or (high is not None and y.max() > high)):
        bound = f"0..{high}" if high is not None else "non-negative"
        raise DatasetError(f"{source}: labels must lie in {bound}, found {y.min()}..{y.max()}")
    return y


@dataclass(frozen=True)
class Splits:
    """A dataset's scaled arrays; test arrays are None when it has no test split (mnist5k)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray | None
    y_test: np.ndarray | None
    n_classes: int
    image_shape: tuple


def _checked_splits(raw, source: str, image_shape=None, n_classes=None) -> Splits:
    x_tr, y_tr, x_te, y_te = raw
    if image_shape is None:
        image_shape = tuple(np.shape(x_tr)[1:])
    x_tr = scale_images(x_tr, f"{source}: x_train", image_shape)
    x_te = None if x_te is None else scale_images(x_te, f"{source}: x_test", image_shape)
    if n_classes is None:  # a user's file: K = the largest label + 1
        labels = [np.asarray(y) for y in (y_tr, y_te) if y is not None]
        for name, y in zip(("y_train", "y_test"), labels):
            check_labels(y, len(y), f"{source}: {name}")
        n_classes = int(max(y.max() for y in labels if y.size)) + 1
    y_tr = check_labels(y_tr, len(x_tr), f"{source}: y_train", n_classes)
    if len(np.unique(y_tr)) < 2:
        raise DatasetError(f"{source}: y_train: every label is {y_tr[0]}; a study needs at least two classes")
    y_te = None if y_te is None else check_labels(y_te, len(x_te), f"{source}: y_test", n_classes)
    return Splits(x_tr, y_tr, x_te, y_te, int(n_classes), tuple(int(d) for d in image_shape))


def load_dataset(dataset: str) -> Splits:
    """The named dataset of ``DATASETS``, or a user's .npz (x_train, y_train, x_test, y_test)."""
    spec = DATASETS.get(dataset)
    if spec is not None:
        return _checked_splits(spec.load(), dataset, spec.image_shape, spec.n_classes)
    path = Path(dataset)
    return _checked_splits(read_npz_splits(path), str(path))


def stratified_split(y: np.ndarray, test_size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices (pool, test) with the test set holding each class's share of test_size.

    Classes get floor(test_size * share) examples each, the remainder goes to the
    largest fractional parts, so the split is exact and deterministic.
    """
    y = np.asarray(y)
    if not 0 < test_size < len(y):
        raise DatasetError(f"test_size must be between 1 and {len(y) - 1}, got {test_size}")
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
    return np.setdiff1d(np.arange(len(y)), test_idx), test_idx


def prepare_pool_and_test(dataset: str, test_size: int, seed: int):
    """(x_pool, y_pool, x_test, y_test, splits) : the training pool and the fixed test set.

    mnist5k: a stratified split of the 5,000 digits. Official splits: the whole
    training split is the pool and a stratified ``test_size`` of the official test
    split is the test set (all of it when ``test_size`` is at least its size).
    """
    s = load_dataset(dataset)
    if s.x_test is None:
        pool_idx, test_idx = stratified_split(s.y_train, test_size, seed)
        return s.x_train[pool_idx], s.y_train[pool_idx], s.x_train[test_idx], s.y_train[test_idx], s
    x_test, y_test = s.x_test, s.y_test
    if test_size < len(y_test):
        _, test_idx = stratified_split(y_test, test_size, seed)
        x_test, y_test = x_test[test_idx], y_test[test_idx]
    return s.x_train, s.y_train, x_test, y_test, s


def make_labels(y_true: np.ndarray, mode: str, seed: int, n_classes: int) -> np.ndarray:
    """Labels trained on for every example of the pool (see ``labels.LABEL_MODES``)."""
    return draw_labels(np.asarray(y_true, dtype=np.int64), mode, rng_for(seed, STREAM_LABELS), n_classes)


def subset_order(pool_size: int, seed: int) -> np.ndarray:
    """One permutation of the pool per seed; size n trains on its first n entries."""
    return rng_for(seed, STREAM_PERMUTATION).permutation(pool_size)


def subset(x_pool, y_pool_true, label_mode: str, seed: int, size: int, n_classes: int) -> dict:
    """The subset contract (x, y, y_true, index) of one size: the first ``size`` entries of
    the seed's permutation, with the mode's labels drawn once over the whole pool."""
    order = subset_order(len(x_pool), seed)
    if size > len(order):
        raise DatasetError(f"size {size} exceeds the training pool ({len(order)} examples)")
    labels = make_labels(y_pool_true, label_mode, seed, n_classes)
    idx = order[:size]
    return dict(x=x_pool[idx].astype(np.float32), y=labels[idx], y_true=y_pool_true[idx], index=idx)


def nested_subsets(x_pool, y_pool_true, label_mode: str, seed: int, sizes, n_classes: int):
    """Yield (size, subset) for each size; the subsets are nested prefixes of one permutation."""
    for n in sizes:
        yield n, subset(x_pool, y_pool_true, label_mode, seed, n, n_classes)
