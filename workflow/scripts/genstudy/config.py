"""Checks on the config that JSON Schema cannot express (they need the data)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .data import parse_label_mode

MNIST5K_SIZE = 5000
OFFICIAL_TRAIN_SIZE = {"mnist": 60000, "fashion_mnist": 60000}


class ConfigError(ValueError):
    pass


def pool_size(dataset: str, test_size: int) -> int:
    """Number of training-pool examples the dataset gives, without loading the images."""
    if dataset == "mnist5k":
        return MNIST5K_SIZE - test_size
    if dataset in OFFICIAL_TRAIN_SIZE:
        return OFFICIAL_TRAIN_SIZE[dataset]
    path = Path(dataset)
    if not path.exists():
        raise ConfigError(f"dataset: file not found: {dataset} (expected mnist5k, mnist, fashion_mnist or an .npz path)")
    try:
        with np.load(path, allow_pickle=False) as f:
            missing = [k for k in ("x_train", "y_train", "x_test", "y_test") if k not in f.files]
            if missing:
                raise ConfigError(f"dataset: {path} lacks arrays {missing}; expected x_train, y_train, x_test, y_test")
            return int(f["y_train"].shape[0])
    except ConfigError:
        raise
    except Exception as exc:
        raise ConfigError(f"dataset: cannot read {path} as an .npz file ({exc})") from exc


def check_config(config: dict) -> None:
    """Raise ConfigError naming the key when the (schema-valid) config cannot run."""
    for mode in config["label_modes"]:
        try:
            parse_label_mode(mode)
        except ValueError as exc:
            raise ConfigError(f"label_modes: {exc}") from exc
    if config["dataset"] == "mnist5k" and config["test_size"] >= MNIST5K_SIZE:
        raise ConfigError(f"test_size: {config['test_size']} leaves no training pool of the {MNIST5K_SIZE} mnist5k digits")
    batch = config["train"]["batch_size"]
    small = [n for n in config["sizes"] if n < batch]
    if small:
        raise ConfigError(f"sizes: {small} smaller than train.batch_size ({batch})")
    pool = pool_size(config["dataset"], config["test_size"])
    big = [n for n in config["sizes"] if n > pool]
    if big:
        raise ConfigError(f"sizes: {big} larger than the training pool of {config['dataset']} ({pool} examples)")
