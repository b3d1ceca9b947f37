"""The axes a study varies and the run each combination of them is, without numpy.

A config gives each axis one value or a list: ``model.hidden`` (one architecture or a
list of them), ``train.learning_rate``, ``train.batch_size``, ``train.protocol``;
``sizes``, ``seeds`` and ``label_modes`` are lists. Every combination is one training
run, keyed in paths by readable segments (``h64-64``, ``lr0.001``, ``bs128``,
``independent``) so a rerun touches only what changed. The Snakefile imports this
module at parse time.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path


def as_list(value) -> list:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def architectures(hidden) -> list[tuple[int, ...]]:
    """``model.hidden`` as a list of architectures: [64, 64] is one, [[32], [64, 64]] two."""
    hidden = list(hidden)
    if hidden and all(isinstance(h, (list, tuple)) for h in hidden):
        return [tuple(int(w) for w in h) for h in hidden]
    return [tuple(int(w) for w in hidden)]


def hidden_key(arch) -> str:
    """Path segment value of an architecture: (64, 64) -> '64-64'."""
    return "-".join(str(int(w)) for w in arch)


def parse_hidden_key(key: str) -> tuple[int, ...]:
    return tuple(int(w) for w in str(key).split("-"))


def lr_key(lr) -> str:
    """Path segment value of a learning rate: the shortest repr that reads back exactly."""
    return repr(float(lr))


def run_from_wildcards(wildcards) -> dict:
    """The run a train or measures job is, from its wildcards (an object with ``items()`` or a
    mapping): the axes, size and seed its outputs record."""
    w = dict(wildcards.items())
    return {
        "label_mode": w["label_mode"],
        "hidden": list(parse_hidden_key(w["hidden"])),
        "learning_rate": float(w["lr"]),
        "batch_size": int(w["bs"]),
        "protocol": w["protocol"],
        "size": int(w["size"]),
        "seed": int(w["seed"]),
    }


def carried_from(sizes, size: int, protocol: str) -> int | None:
    """The size whose final optimizer state run ``size`` starts from: under carry_optimizer
    (the original's protocol, which trains the sizes from the largest down) the next larger
    size, so the two train jobs are joined by an edge; None for the largest size and for
    independent runs."""
    if protocol != "carry_optimizer":
        return None
    larger = sorted(int(n) for n in sizes if int(n) > int(size))
    return larger[0] if larger else None


# Wildcard constraints of the path segments.
PROTOCOLS = ("independent", "carry_optimizer")
SEGMENT_PATTERNS = {
    "hidden": r"[1-9]\d*(-[1-9]\d*)*",
    "lr": r"[0-9][0-9.e+-]*",
    "bs": r"[1-9]\d*",
    "protocol": "|".join(PROTOCOLS),
}


@dataclass(frozen=True)
class Run:
    """One training run: the values of every axis."""

    label_mode: str
    hidden: tuple
    learning_rate: float
    batch_size: int
    protocol: str
    size: int
    seed: int

    @property
    def wildcards(self) -> dict:
        return dict(
            label_mode=self.label_mode,
            hidden=hidden_key(self.hidden),
            lr=lr_key(self.learning_rate),
            bs=str(self.batch_size),
            protocol=self.protocol,
            size=str(self.size),
            seed=str(self.seed),
        )


def runs(config: dict) -> list[Run]:
    """Every run of the study, in a fixed order (label mode, architecture, lr, batch, protocol, size, seed)."""
    train = config["train"]
    return [
        Run(m, h, float(lr), int(bs), p, int(n), int(s))
        for m, h, lr, bs, p, n, s in itertools.product(
            config["label_modes"],
            architectures(config["model"]["hidden"]),
            as_list(train["learning_rate"]),
            as_list(train["batch_size"]),
            as_list(train["protocol"]),
            config["sizes"],
            config["seeds"],
        )
    ]


def n_parameters(sizes) -> int:
    """Weights and biases of the MLP with layer sizes ``sizes`` (inputs, hidden…, classes)."""
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))


def network_sizes(data: dict, hidden) -> list:
    """Layer sizes (inputs, hidden…, classes) of a network on a dataset's shape; 10 classes
    where the classes are not known before prepare_data reads the data (a bare Snakemake)."""
    return [data["n_features"], *hidden, data["n_classes"] or 10]


def arch_columns(arch, n_inputs: int, n_classes: int) -> dict:
    """Table columns of an architecture: depth (Dense layers), width (when all hidden
    layers have the same width, else None) and the number of parameters."""
    sizes = [n_inputs, *arch, n_classes]
    return {"depth": len(arch) + 1, "width": arch[0] if len(set(arch)) == 1 else None, "n_params": n_parameters(sizes)}


def varying_axes(config: dict) -> list[str]:
    """The axes of the ranking tables that take more than one value in this study.

    The architecture counts as the two axes depth and width when every architecture
    is uniform (same width in every hidden layer), else as the one axis ``hidden``.
    Seeds are repeats, not an axis.
    """
    archs = architectures(config["model"]["hidden"])
    axes = {
        "size": config["sizes"],
        "label_mode": config["label_modes"],
        "learning_rate": as_list(config["train"]["learning_rate"]),
        "batch_size": as_list(config["train"]["batch_size"]),
        "protocol": as_list(config["train"]["protocol"]),
    }
    if all(len(set(a)) == 1 for a in archs):
        axes.update(depth=[len(a) for a in archs], width=[a[0] for a in archs])
    else:
        axes["hidden"] = [hidden_key(a) for a in archs]
    return [name for name, values in axes.items() if len(set(values)) > 1]


def named_by_file(config_files: list[dict], files: list[str], cli_config: dict | None = None) -> bool:
    """Whether the study is named after its config file: files were given (``files``, parsed as
    ``config_files``) and neither they nor ``--config`` name a study."""
    return bool(files) and "study" not in (cli_config or {}) and not any("study" in (c or {}) for c in config_files)


def study_name(config_study: str, config_files: list[dict], files: list[str], cli_config: dict | None = None) -> str:
    """The study a run writes to: ``study`` as the config gives it, unless it is named by its
    file (``named_by_file``). Such a partial config would otherwise write into the default
    study's results; it is named after its file instead (``my_lr.yaml`` → ``my_lr``)."""
    import re

    if not named_by_file(config_files, files, cli_config):
        return config_study
    stem = re.sub(r"[^A-Za-z0-9_.-]", "_", Path(files[-1]).stem).lstrip("._-")
    return stem or config_study


# Folders under results/ that the project owns: no study may write into them.
RESERVED_STUDY_NAMES = ("benchmarks",)
MAX_STUDY_NAME = 100  # a folder name, well within every filesystem's limit on one path component


def check_study_name(name: str) -> None:
    """Refuse a study name that would write into a folder the project owns or that is too long."""
    if name in RESERVED_STUDY_NAMES:
        raise ValueError(f"study: {name!r} is a folder of the project (results/{name}/); choose another name")
    if len(name) > MAX_STUDY_NAME:
        raise ValueError(f"study: a name of {len(name)} characters; at most {MAX_STUDY_NAME} are allowed")


def unreached_warning(training_csv) -> str | None:
    """A warning when some checkpoint was reached by no run of a finished study (its rankings,
    figures and findings are then empty), or None; read without pandas, after the run."""
    import csv

    path = Path(training_csv)
    if not path.is_file():
        return None
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    reached = {}
    for row in rows:
        reached.setdefault(row["checkpoint"], 0)
        reached[row["checkpoint"]] += row["reached"] == "True" and row["diverged"] != "True"
    never = [c for c, k in reached.items() if k == 0]
    if not never:
        return None
    return (
        f"Warning: no run of {len(rows) // max(len(reached), 1)} reached {', '.join(never)} (without diverging): "
        f"the rankings, figures and findings at {'it' if len(never) == 1 else 'them'} are empty. "
        "Raise train.max_epochs, or see the runs' logs."
    )


ORIGIN_FILE = ".study-origin.json"  # in results/<study>/: the config files the study was first run from


def origin_conflict(results_dir, config_files: list[str]) -> str | None:
    """Why a study named after its config file may not write into ``results_dir``: another config
    file of the same name (in another folder) wrote it first. None when it may."""
    import json

    path = Path(results_dir) / ORIGIN_FILE
    if not path.is_file():
        return None
    first = json.loads(path.read_text()).get("config_files")
    mine = [str(Path(f).resolve()) for f in config_files]
    if first == mine:
        return None
    return (
        f"{', '.join(config_files)} names no study, so it would write into {results_dir}/, which holds the "
        f"study of {', '.join(first)}: give it a `study:` of its own"
    )


def record_origin(results_dir, config_files: list[str]) -> None:
    """Note the config files a study was first run from (kept once written)."""
    import json

    path = Path(results_dir) / ORIGIN_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"config_files": [str(Path(f).resolve()) for f in config_files]}) + "\n")
