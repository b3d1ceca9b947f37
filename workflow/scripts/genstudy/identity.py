"""What a result file is, and the check that it is what its reader expects.

Snakemake judges a file by its name and time; a file moved, swapped or copied from another
study keeps both. So every file a later rule reads says what it is, and the reader compares:

- a subset (npz) carries its study, label mode, seed and n (``identity``, a JSON string);
- a run's ``summary.json`` carries its study and run (every axis, the size and the seed), and
  the SHA-256 of every other file of the run (checkpoints, final weights, Adam's state,
  history): a manifest, written last;
- a measures record carries its study, run and checkpoint, and the SHA-256 of the checkpoint
  it measured.

A mismatch is a ``FileContractError`` naming the file, what it holds and what was expected.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from .arrays import FileContractError


def canonical(value):
    """``value`` as JSON gives it back (tuples as lists, keys as strings): comparable across files."""
    return json.loads(json.dumps(value, sort_keys=True))


def sha256_of(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def run_identity(study: str, run: dict) -> dict:
    """A run's identity: its study and every key of its run (axes, size, seed)."""
    from .runs import RUN_KEYS

    return canonical({"study": study, "run": {k: run[k] for k in RUN_KEYS}})


def subset_identity(study: str, label_mode: str, seed: int, n: int) -> dict:
    return canonical({"study": study, "label_mode": label_mode, "seed": int(seed), "n": int(n)})


def check_identity(path, found, expected: dict) -> None:
    """Refuse ``path`` unless what it says it is (``found``) is ``expected``."""
    if canonical(found) != canonical(expected):
        raise FileContractError(
            f"{path}: holds {json.dumps(found, sort_keys=True)}, but is read as "
            f"{json.dumps(expected, sort_keys=True)} (moved, swapped or copied from elsewhere?)"
        )


def read_identity(arrays: dict, path) -> dict | None:
    """The ``identity`` an npz file carries, or None."""
    if "identity" not in arrays:
        return None
    try:
        return json.loads(str(arrays["identity"]))
    except ValueError as exc:
        raise FileContractError(f"{path}: unreadable identity ({exc})") from exc


def check_subset(path, arrays: dict, expected: dict) -> None:
    """A subset file is the subset ``expected`` names, and holds that many examples."""
    check_identity(path, read_identity(arrays, path), expected)
    if len(arrays["y"]) != expected["n"]:
        raise FileContractError(f"{path}: holds {len(arrays['y'])} examples, but is the subset of n = {expected['n']}")


def manifest(files: dict) -> dict:
    """{name: SHA-256} of a run's files (``files``: name -> path)."""
    return {name: sha256_of(path) for name, path in sorted(files.items())}


def check_run_files(summary_path, summary: dict, expected: dict, files: dict) -> None:
    """The summary is the run ``expected`` names (``run_identity``), and each of ``files``
    (name -> path) is the file its manifest lists under that name."""
    check_identity(summary_path, {k: summary.get(k) for k in ("study", "run")}, expected)
    listed = summary.get("files") or {}
    for name, path in files.items():
        if name not in listed:
            raise FileContractError(f"{summary_path}: lists no {name} (written by an older version? rerun the run)")
        if sha256_of(path) != listed[name]:
            raise FileContractError(
                f"{path}: not the {name} of {Path(summary_path).parent} (its SHA-256 differs from the one "
                f"{summary_path} lists: moved, swapped or edited since the run wrote it)"
            )
