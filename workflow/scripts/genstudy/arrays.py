"""Reading and writing the workflow's npz files, with errors that name the file.

Writes go to a temporary file that is renamed into place, so a killed job never
leaves a half-written file under a final name.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from .contract import SUBSET_KEYS
from .model import depth_of, param_names


class FileContractError(ValueError):
    """A file exists but does not hold what the workflow contract says."""


def _atomic_target(path):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    # mkstemp makes the file private (0600); results are shared, so give it the permissions
    # any new file gets here (0644 under the usual umask)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    return path, Path(tmp)


def save_npz(path, **arrays) -> None:
    """Like ``np.savez`` (loadable by ``np.load``), but byte-for-byte reproducible.

    ``np.savez`` stamps each member with the current time; fixed timestamps and a
    fixed member order make equal arrays give equal files, so checksums can compare runs.
    """
    path, tmp = _atomic_target(path)
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
            for name in sorted(arrays):
                info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
                info.external_attr = 0o644 << 16
                with zf.open(info, "w", force_zip64=True) as f:
                    np.lib.format.write_array(f, np.asanyarray(arrays[name]), allow_pickle=False)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_output(path):
    """Yield a temporary path beside ``path`` to write to; it becomes ``path`` (one rename) only
    if the block finishes, so a killed or failing job never leaves a half-written file."""
    path, tmp = _atomic_target(path)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def save_text(path, text: str) -> None:
    with atomic_output(path) as tmp:
        tmp.write_text(text)


def save_json(path, obj) -> None:
    save_text(path, json.dumps(obj, indent=2, sort_keys=True, allow_nan=True) + "\n")


def load_npz(path, required=()) -> dict[str, np.ndarray]:
    path = Path(path)
    if not path.exists():
        raise FileContractError(f"{path}: file not found")
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except Exception as exc:
        raise FileContractError(f"{path}: unreadable or truncated npz file ({type(exc).__name__}: {exc})") from exc
    missing = [k for k in required if k not in arrays]
    if missing:
        raise FileContractError(f"{path}: missing arrays {missing} (has {sorted(arrays)})")
    return arrays


def load_json(path, required=()) -> dict:
    """A JSON object, with the keys ``required`` present; errors name the file."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        raise FileContractError(f"{path}: file not found") from None
    except (OSError, ValueError) as exc:
        raise FileContractError(f"{path}: unreadable or truncated JSON ({exc})") from exc
    if not isinstance(doc, dict):
        raise FileContractError(f"{path}: expected a JSON object, got {type(doc).__name__}")
    missing = [k for k in required if k not in doc]
    if missing:
        raise FileContractError(f"{path}: missing keys {missing} (has {sorted(doc)})")
    return doc


def load_params(path) -> dict[str, np.ndarray]:
    """Weights W1 b1 … WL bL (kernels (fan_in, fan_out)), checked for consistent shapes."""
    return _checked_params(load_npz(path, ("W1", "b1")), path)


def load_checkpoint(path) -> tuple[dict[str, np.ndarray], int, bool]:
    """(weights, epoch, reached) of a training checkpoint, in one read of the file."""
    arrays = load_npz(path, ("W1", "b1", "epoch", "reached"))
    return _checked_params(arrays, path), int(arrays["epoch"]), bool(arrays["reached"])


def _checked_params(arrays: dict, path) -> dict[str, np.ndarray]:
    """The layers W1 b1 … WL bL of ``arrays`` (L = the last consecutive W), shapes chained."""
    names = param_names(depth_of(arrays))
    missing = [k for k in names if k not in arrays]
    if missing:
        raise FileContractError(f"{path}: missing arrays {missing} (has {sorted(arrays)})")
    fan_in = None
    for i in range(1, len(names) // 2 + 1):
        W, b = arrays[f"W{i}"], arrays[f"b{i}"]
        if W.ndim != 2 or b.shape != (W.shape[1],) or (fan_in is not None and W.shape[0] != fan_in):
            raise FileContractError(f"{path}: inconsistent shapes W{i} {W.shape}, b{i} {b.shape}")
        if not (np.isfinite(W).all() and np.isfinite(b).all()):
            raise FileContractError(f"{path}: non-finite values in layer {i}")
        fan_in = W.shape[1]
    return {k: arrays[k] for k in names}


def load_subset(path) -> dict[str, np.ndarray]:
    arrays = load_npz(path, SUBSET_KEYS)
    n = len(arrays["x"])
    if arrays["x"].ndim != 2 or any(arrays[k].shape != (n,) for k in ("y", "y_true", "index")):
        raise FileContractError(
            f"{path}: expected x (n, d) and y, y_true, index of shape (n,), got "
            + ", ".join(f"{k} {arrays[k].shape}" for k in SUBSET_KEYS)
        )
    return arrays
