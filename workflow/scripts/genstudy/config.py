"""The config: typed as the schema says, then checked where JSON Schema cannot (the
data, several keys at once, memory).

Imported by the Snakefile at parse time: no numpy here.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path

import yaml

from .contract import CE_CHECKPOINT_LOSS
from .datasets import DATASETS, DatasetError, npz_headers
from .labels import parse_label_mode
from .study import as_list

# The config schema: the one place the defaults are written. Jobs get complete, validated
# sections from Snakemake and never read it; tests and benchmarks do, through ``schema_defaults``.
SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schemas" / "config.schema.yaml"


class ConfigError(ValueError):
    pass


@functools.cache
def schema_defaults(section: str) -> dict:
    """The schema's default of every key of one section of the config (``train``, ``measures``…)."""
    props = yaml.safe_load(SCHEMA_FILE.read_text())["properties"][section]["properties"]
    return {k: v["default"] for k, v in props.items() if "default" in v}


def typed_config(value, schema: dict, defs: dict | None = None):
    """``value`` with its scalars typed as ``schema`` says.

    Snakemake reads ``--config key=value`` with YAML's BaseLoader, so lists and nested
    keys arrive as strings ('32', '1e-3'); and JSON Schema's ``integer`` accepts 32.0,
    which TensorFlow would not. Here strings become numbers, booleans or lists where the
    schema wants them, and integer-valued floats become integers. What cannot be typed
    is left as it is, for the schema to report with the key's name.
    """
    defs = schema.get("$defs", {}) if defs is None else defs
    if "$ref" in schema:
        schema = defs[schema["$ref"].split("/")[-1]]
    for key in ("oneOf", "anyOf"):
        if key in schema:
            return _first_valid(value, schema[key], defs)
    kinds = as_list(schema.get("type"))
    if "object" in kinds and isinstance(value, dict):
        props = schema.get("properties", {})
        return {k: typed_config(v, props[k], defs) if k in props else v for k, v in value.items()}
    if "array" in kinds:
        value = _parsed(value) if isinstance(value, str) else value
        if isinstance(value, list) and "items" in schema:
            return [typed_config(v, schema["items"], defs) for v in value]
        return value
    if "integer" in kinds or "number" in kinds:
        return _number(value, integer="number" not in kinds)
    if "boolean" in kinds and isinstance(value, str):
        parsed = _parsed(value)
        return parsed if isinstance(parsed, bool) else value
    return value


def _parsed(text: str):
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def _number(value, integer: bool):
    if isinstance(value, str):
        parsed = _parsed(value)
        if isinstance(parsed, str):
            try:
                parsed = float(parsed)
            except ValueError:
                return value
        value = parsed
    if isinstance(value, float) and math.isfinite(value) and value == int(value) and integer:
        return int(value)
    return value


def _first_valid(value, alternatives, defs):
    from jsonschema import Draft202012Validator

    for alt in alternatives:
        typed = typed_config(value, alt, defs)
        if Draft202012Validator({**alt, "$defs": defs}).is_valid(typed):
            return typed
    return value


# Keys whose value is one value or a list of them (an axis of the study); a list must not repeat one.
AXIS_KEYS = (
    "sizes",
    "seeds",
    "label_modes",
    "model.hidden",
    "train.learning_rate",
    "train.batch_size",
    "train.protocol",
)


def _at(config: dict, dotted: str):
    value = config
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def schema_problem(config: dict, schema: dict) -> str | None:
    """What is wrong with ``config`` by the schema, as one line naming the key, the value given
    and what is allowed (the schema's description of the key), or None. JSON Schema's own
    message for an alternative of several forms ("not valid under any of the given schemas")
    names none of these."""
    import json

    import jsonschema

    for key in AXIS_KEYS:
        value = _at(config, key)
        if key == "model.hidden" and not (isinstance(value, list) and all(isinstance(h, list) for h in value)):
            continue  # one architecture: [64, 64] repeats a width, not an axis value
        if isinstance(value, list):
            seen = [json.dumps(v, sort_keys=True) for v in value]
            twice = next((v for v in value if seen.count(json.dumps(v, sort_keys=True)) > 1), None)
            if twice is not None:
                return f"{key}: {json.dumps(value)} lists {json.dumps(twice)} twice; give each value of an axis once"
    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(config))
    if error is None:
        return None
    path = [str(p) for p in error.absolute_path]
    reasons = sorted({e.message for e in error.context or []}) or [error.message]
    described = schema
    for part in path:
        described = described.get("properties", {}).get(part, described)
    allowed = described.get("description")
    where = ".".join(path) or "the config"
    return f"{where}: {'; '.join(reasons)}" + (f" (allowed: {allowed})" if allowed else "")


def non_finite_keys(config, prefix: str = "") -> list[str]:
    """Dotted keys whose value is NaN or infinite (YAML's .nan and .inf pass JSON Schema)."""
    if isinstance(config, dict):
        return [k for key, v in config.items() for k in non_finite_keys(v, f"{prefix}{key}.")]
    if isinstance(config, list):
        return [k for i, v in enumerate(config) for k in non_finite_keys(v, f"{prefix[:-1]}[{i}].")]
    return [prefix[:-1]] if isinstance(config, float) and not math.isfinite(config) else []


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


def check_dataset_available(dataset: str) -> None:
    """A named dataset that Keras downloads must be cached already or its host reachable."""
    from .datasets import keras_home, reachable

    spec = DATASETS.get(dataset)
    if spec is None or not spec.cache or spec.cached() or reachable(spec.host):
        return
    where = ", ".join(str(keras_home() / "datasets" / f) for f in spec.cache)
    raise ConfigError(
        f"dataset: {dataset} is not downloaded ({where} missing) and {spec.host} cannot be reached "
        f'from this machine. Download it where there is a network (python -c "import keras; '
        f'keras.datasets.{dataset}.load_data()") and copy ~/.keras/datasets/ here, or set KERAS_HOME.'
    )


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a key given twice in one mapping (PyYAML keeps the last)."""

    def construct_mapping(self, node, deep=False):
        seen = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"the key {key!r} is given twice, on lines {seen[key] + 1} and {key_node.start_mark.line + 1}",
                    key_node.start_mark,
                )
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep)


def read_config_file(path) -> dict:
    """A config file as a dict, with errors that name the file (and the line, for YAML); a key
    given twice is refused, naming both lines."""
    from pathlib import Path

    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found")
    text = path.read_text()
    try:
        doc = yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(f"{path}{where}: not valid YAML ({getattr(exc, 'problem', None) or exc})") from None
    if doc is None:
        raise ConfigError(f"{path}: the config file is empty")
    if not isinstance(doc, dict):
        raise ConfigError(f"{path}: expected keys at the top level, got a {type(doc).__name__}")
    return doc


def check_dataset_content(dataset: str) -> dict:
    """A user's .npz, loaded and checked in full when numpy is at hand (it is not in a bare
    Snakemake environment; prepare_data then checks it in its job). Returns the classes
    found and warnings (classes missing from a split)."""
    if dataset in DATASETS:
        return {"warnings": []}
    try:
        from .data import load_dataset
    except ImportError:
        return {"warnings": [f"dataset: {dataset} is checked by the prepare_data job (numpy is not installed here)"]}
    try:
        s = load_dataset(dataset)
    except DatasetError as exc:
        raise ConfigError(str(exc)) from None
    warnings = []
    for name, y in (("y_train", s.y_train), ("y_test", s.y_test)):
        absent = sorted(set(range(s.n_classes)) - set(int(v) for v in set(y.tolist())))
        if absent:
            warnings.append(f"dataset: {dataset}: classes {absent} of 0..{s.n_classes - 1} never occur in {name}")
    return {"n_classes": s.n_classes, "warnings": warnings}


def label_classes(dataset: str) -> int | None:
    """K of a user's .npz from its label arrays alone (max label + 1); None without numpy."""
    try:
        import numpy as np
    except ImportError:
        return None
    with np.load(dataset) as f:
        return int(max(f["y_train"].max(), f["y_test"].max())) + 1


def check_settings(config: dict) -> None:
    """Rules across keys, and finiteness (YAML's .nan and .inf pass JSON Schema)."""
    bad = non_finite_keys(config)
    if bad:
        raise ConfigError(f"{', '.join(bad)}: must be finite numbers (got NaN or infinity)")
    m = config["measures"]
    if m["trace_min_vectors"] > m["trace_max_vectors"]:
        raise ConfigError(
            f"measures.trace_min_vectors ({m['trace_min_vectors']}) exceeds "
            f"measures.trace_max_vectors ({m['trace_max_vectors']})"
        )
    if m["top_k"] > m["lanczos_max_iter"]:
        raise ConfigError(
            f"measures.top_k ({m['top_k']}) exceeds measures.lanczos_max_iter "
            f"({m['lanczos_max_iter']}): Lanczos finds at most one eigenvalue per step"
        )
    for mode in config["label_modes"]:
        try:
            parse_label_mode(mode)
        except ValueError as exc:
            raise ConfigError(f"label_modes: {exc}") from exc
    check_training(config["train"])


MAX_CHUNK_EPOCHS = 100_000  # a chunk's history is held in memory: 40 bytes an epoch


def check_training(train: dict) -> None:
    """Training settings that JSON Schema cannot judge: the checkpoints' order and a chunk's size."""
    if train["target_loss"] > CE_CHECKPOINT_LOSS:
        raise ConfigError(
            f"train.target_loss: {train['target_loss']} is above the ce001 checkpoint's loss "
            f"({CE_CHECKPOINT_LOSS}), so training would stop (loss0) before ce001 could be reached; "
            f"use a target at most {CE_CHECKPOINT_LOSS}"
        )
    if train["chunk_epochs"] > MAX_CHUNK_EPOCHS:
        raise ConfigError(
            f"train.chunk_epochs: {train['chunk_epochs']} epochs in one compiled call; at most "
            f"{MAX_CHUNK_EPOCHS:,} are allowed (a chunk's history is held in memory), and more than "
            f"train.max_epochs ({train['max_epochs']}) gains nothing"
        )


def check_memory(config: dict, shape: dict, limit_mb: float) -> None:
    """Refuse a network whose train or measures job would not fit, naming model.hidden and
    the memory its jobs would ask for (``resources.job_resources``, what the rules request)."""
    from . import resources
    from .study import architectures, n_parameters, network_sizes

    n = max(config["sizes"])
    for arch in architectures(config["model"]["hidden"]):
        need = {
            rule: resources.job_resources(rule, n, list(arch), 1, config, shape)["mem_mb"]
            for rule in ("train", "measures")
        }
        job, mb = max(need.items(), key=lambda kv: kv[1])
        sizes = network_sizes(shape, arch)
        n_params = n_parameters(sizes)
        classes = sizes[-1]
        if mb > limit_mb and (sizes[-2] + 1) * classes > n_params / 2:
            raise ConfigError(  # the labels, not the hidden layers, make the network this large
                f"dataset: {config['dataset']} has labels up to {classes - 1}, so the output layer would have "
                f"{classes:,} units ({n_params:,} parameters, about {mb / 1024:.1f} GiB in a {job} job); labels "
                "must be the classes 0..K-1: renumber them"
            )
        if mb > limit_mb:
            raise ConfigError(
                f"model.hidden: {list(arch)} ({n_params:,} parameters) needs about {mb / 1024:.1f} GiB "
                f"in a {job} job at n = {n}, more than the {limit_mb / 1024:.1f} GiB allowed "
                "(max_job_memory_gb; by default this machine's memory)"
            )
        if config["measures"]["top_k"] > n_params:
            raise ConfigError(
                f"measures.top_k ({config['measures']['top_k']}) exceeds the number of parameters of "
                f"model.hidden {list(arch)}"
            )


def machine_memory_mb() -> float:
    import os

    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**20


def check_config(config: dict, load_data: bool = True) -> dict:
    """Raise ConfigError naming the key when the (schema-valid) config cannot run.

    Returns what the checks learnt about the dataset (pool size, features, classes) and
    warnings to show. ``load_data`` False skips what reads a whole user dataset or probes the
    network: the main Snakemake process has checked it already, and every cluster job parses
    the workflow again (it then reads only the labels, for the number of classes).
    """
    check_settings(config)
    if config["dataset"] == "mnist5k" and config["test_size"] >= DATASETS["mnist5k"].n_examples:
        raise ConfigError(
            f"test_size: {config['test_size']} leaves no training pool of the "
            f"{DATASETS['mnist5k'].n_examples} mnist5k digits"
        )
    batch = max(as_list(config["train"]["batch_size"]))
    small = [n for n in config["sizes"] if n < batch]
    if small:
        raise ConfigError(f"sizes: {small} smaller than train.batch_size ({batch})")
    shape = dataset_shape(config["dataset"], config["test_size"])
    big = [n for n in config["sizes"] if n > shape["pool_size"]]
    if big:
        raise ConfigError(
            f"sizes: {big} larger than the training pool of {config['dataset']} ({shape['pool_size']} examples)"
        )
    if load_data:
        check_dataset_available(config["dataset"])
        content = check_dataset_content(config["dataset"])
    else:
        content = {"warnings": [], "n_classes": shape["n_classes"] or label_classes(config["dataset"])}
    shape["n_classes"] = shape["n_classes"] or content.get("n_classes")
    limit = config.get("max_job_memory_gb")
    check_memory(config, shape, limit * 1024 if limit else machine_memory_mb())
    return {**shape, "warnings": content["warnings"]}
