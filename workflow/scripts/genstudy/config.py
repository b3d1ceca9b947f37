"""Checks on the config that JSON Schema cannot express (they need the data or several keys).

Imported by the Snakefile at parse time: no numpy here.
"""
from __future__ import annotations

from .datasets import DATASETS, DatasetError, npz_headers
from .labels import parse_label_mode


class ConfigError(ValueError):
    pass


def dataset_shape(dataset: str, test_size: int) -> dict:
    """Pool size, features per example and (when declared) classes, without loading the images."""
    spec = DATASETS.get(dataset)
    if spec is not None:
        pool = spec.n_examples - (0 if spec.has_test_split else test_size)
        return {"pool_size": pool, "n_features": spec.n_features, "n_classes": spec.n_classes}
    try:
        headers = npz_headers(dataset)
    except DatasetError as exc:
        raise ConfigError(str(exc)) from None
    missing = [k for k in ("x_train", "y_train", "x_test", "y_test") if k not in headers]
    if missing:
        raise ConfigError(f"dataset: {dataset} lacks arrays {missing}; expected x_train, y_train, x_test, y_test")
    shape = headers["x_train"][0]
    n_features = 1
    for d in shape[1:]:
        n_features *= int(d)
    return {"pool_size": int(shape[0]) if shape else 0, "n_features": n_features, "n_classes": None}


def check_config(config: dict) -> dict:
    """Raise ConfigError naming the key when the (schema-valid) config cannot run.

    Returns what the checks learnt about the dataset (pool size, features, classes).
    """
    for mode in config["label_modes"]:
        try:
            parse_label_mode(mode)
        except ValueError as exc:
            raise ConfigError(f"label_modes: {exc}") from exc
    if config["dataset"] == "mnist5k" and config["test_size"] >= DATASETS["mnist5k"].n_examples:
        raise ConfigError(f"test_size: {config['test_size']} leaves no training pool of the "
                          f"{DATASETS['mnist5k'].n_examples} mnist5k digits")
    batch = config["train"]["batch_size"]
    small = [n for n in config["sizes"] if n < batch]
    if small:
        raise ConfigError(f"sizes: {small} smaller than train.batch_size ({batch})")
    shape = dataset_shape(config["dataset"], config["test_size"])
    big = [n for n in config["sizes"] if n > shape["pool_size"]]
    if big:
        raise ConfigError(f"sizes: {big} larger than the training pool of {config['dataset']} "
                          f"({shape['pool_size']} examples)")
    return shape
