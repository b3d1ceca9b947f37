# Helpers shared by the rules. Nothing here imports numpy or TensorFlow: a dry run must
# be instant, and must work where only Snakemake and the genstudy package are installed.
import hashlib
import os
from pathlib import Path

import yaml
from snakemake.exceptions import WorkflowError
from snakemake.logging import logger
from snakemake.sourcecache import LocalGitFile, LocalSourceFile
from snakemake.utils import update_config, validate

try:
    from genstudy.codeversion import PACKAGE_DIR, code_version as _code_version, package_differences
except ImportError:
    raise WorkflowError(
        "The package genstudy is not installed: `make setup` installs it into .venv; elsewhere "
        "`pip install -e <checkout>` (or `pip install <checkout>`) into the environment that runs Snakemake."
    ) from None


# --- the rules' scripts and their code --------------------------------------------------
SCRIPTS = workflow.current_basedir.join("../scripts")


def script_path(name):
    """A rule's script. Where the workflow is imported from a local git repository, its full
    source URI: Snakemake joins a relative script path onto a LocalGitFile base directory, whose
    join takes only strings, so the relative path fails there."""
    path = SCRIPTS.join(name)
    return str(path) if isinstance(path, LocalGitFile) else f"../scripts/{name}"


def checkout():
    """The checkout the workflow runs from, whose commit the findings cite; none when the workflow
    is imported from a git repository or a URL."""
    return (
        os.path.dirname(os.path.dirname(os.path.normpath(str(SCRIPTS)))) if isinstance(SCRIPTS, LocalSourceFile) else ""
    )


def check_installed_package():
    """A checkout's rules run its own genstudy: jobs import the installed package, so one installed
    from another checkout (an editable install elsewhere, a stale copy) would run other code."""
    root = checkout()
    local = os.path.join(root, "workflow", "scripts", "genstudy")
    if root and os.path.isdir(local):
        differ = package_differences(Path(local))
        if differ:
            raise WorkflowError(
                f"The installed genstudy ({PACKAGE_DIR}) is not this checkout's ({local}): modules "
                f"{', '.join(differ)} differ. Install this checkout's (`make setup`, or "
                f"`pip install -e {root}`), or put PYTHONPATH={os.path.dirname(local)} in front."
            )


check_installed_package()


def code_version(name):
    """Hash of a rule's code: its script and the modules of the installed genstudy package that
    it imports, transitively (genstudy/codeversion.py). Jobs import that same package."""
    with workflow.sourcecache.open(SCRIPTS.join(name)) as f:
        return _code_version(f.read())


from genstudy.config import (
    ConfigError,
    check_config,
    read_config_file,
    schema_problem,
    typed_config,
)
from genstudy.contract import CHECKPOINTS, TRAIN_SETTINGS
from genstudy.labels import LABEL_MODE_REGEX
from genstudy import resources as res
from genstudy.registry import FAMILIES
from genstudy.study import (
    SEGMENT_PATTERNS,
    as_list,
    carried_from,
    parse_hidden_key,
    check_study_name,
    named_by_file,
    origin_conflict,
    record_origin,
    runs,
    study_name,
    unreached_warning,
    varying_axes,
)

PLOTTED_FAMILIES = [f for f in FAMILIES if f != "baseline"]  # a figure each; baselines are drawn with the ranking

# --- the config: its own files, typed, validated against the schema, checked ---------------
_CLI_FILES = [str(f) for f in (getattr(workflow, "overwrite_configfiles", None) or [])]
_CLI_CONFIG = getattr(getattr(workflow, "config_settings", None), "overwrite_config", None) or {}


def _own_config(docs, cli_config):
    """A study's config is its own files (``docs``, each read strictly: a key given twice is
    refused) and --config, nothing else: the Snakefile's config.yaml is the default study, not a
    base that another study inherits. What they leave out, the schema fills in."""
    own = {}
    for doc in docs:
        update_config(own, doc)
    update_config(own, cli_config)
    return own


_AS_MODULE = getattr(workflow.modifier, "namespace", None) is not None  # its config is what the importer passes
try:
    _FILES = [read_config_file(f) for f in _CLI_FILES]
    if _CLI_FILES and not _AS_MODULE:
        _own = _own_config(_FILES, _CLI_CONFIG)
        config.clear()
        config.update(_own)
except ConfigError as exc:
    raise WorkflowError(f"Invalid configuration: {exc}") from None
with workflow.sourcecache.open(workflow.current_basedir.join("../schemas/config.schema.yaml")) as _f:
    _SCHEMA = yaml.safe_load(_f)
config.update(typed_config(dict(config), _SCHEMA))
if schema_problem(config, _SCHEMA):
    raise WorkflowError(f"Invalid configuration: {schema_problem(config, _SCHEMA)}")
validate(config, "../schemas/config.schema.yaml", set_default=True)


def _sorted_keys(value):
    """``value`` with every mapping's keys in sorted order, so that params do not depend on the
    order a config file lists its keys in, nor on which ones the schema filled in."""
    return {k: _sorted_keys(value[k]) for k in sorted(value)} if isinstance(value, dict) else value


config.update(_sorted_keys(dict(config)))
try:
    # a cluster job parses the workflow again: the main process has loaded and checked the data
    DATA = check_config(config, load_data=getattr(workflow, "is_main_process", True))
except ConfigError as exc:
    raise WorkflowError(f"Invalid configuration: {exc}") from None
for _warning in DATA["warnings"]:
    logger.warning(f"Warning: {_warning}")

config["study"] = study_name(config["study"], _FILES, _CLI_FILES, _CLI_CONFIG)
STUDY = config["study"]
R = f"results/{STUDY}"  # every output of this study lives under R
try:
    check_study_name(STUDY)
except ValueError as exc:
    raise WorkflowError(f"Invalid configuration: {exc}") from None
# Two config files of one name in two folders, neither naming a study, would share results/<name>/.
_CONFLICT = origin_conflict(R, _CLI_FILES) if named_by_file(_FILES, _CLI_FILES, _CLI_CONFIG) else None
if _CONFLICT:
    raise WorkflowError(f"Invalid configuration: {_CONFLICT}")


onstart:
    record_origin(R, _CLI_FILES or ["config.yaml"])


onsuccess:
    if _warning := unreached_warning(f"{R}/tables/training.csv"):
        logger.warning(_warning)


SIZES = [int(n) for n in config["sizes"]]
SEEDS = [int(s) for s in config["seeds"]]
LABEL_MODES = list(config["label_modes"])
CARRY = "carry_optimizer" in as_list(config["train"]["protocol"])
RUNS = runs(config)
ENV = "../envs/study.yaml"
LIGHT_ENV = "../envs/tables.yaml"


wildcard_constraints:
    label_mode=LABEL_MODE_REGEX,
    hidden=SEGMENT_PATTERNS["hidden"],
    lr=SEGMENT_PATTERNS["lr"],
    bs=SEGMENT_PATTERNS["bs"],
    protocol=SEGMENT_PATTERNS["protocol"],
    seed=r"\d+",
    size=r"\d+",
    checkpoint="|".join(CHECKPOINTS),
    family="|".join(PLOTTED_FAMILIES),
    axis="|".join(varying_axes(config)) or "none",


# --- paths --------------------------------------------------------------------------------
AXES = "{label_mode}/h{hidden}/lr{lr}/bs{bs}/{protocol}"  # one directory per setting of the axes
RUN = f"{R}/train/{AXES}/n{{size}}/seed{{seed}}"
MEASURED = f"{R}/measures/{AXES}/n{{size}}/seed{{seed}}"
SUBSET = f"{R}/subsets/{{label_mode}}/seed{{seed}}/n{{size}}.npz"
INIT = f"{R}/init/h{{hidden}}/seed{{seed}}.npz"
# optimizer.npz: Adam's final state, where carry_optimizer starts the next smaller size
TRAIN_FILES = [*(f"{c}.npz" for c in CHECKPOINTS), "final.npz", "optimizer.npz", "history.csv", "summary.json"]


def dataset_file():
    """The user's .npz as an input of prepare_data; the named datasets have none."""
    from genstudy.datasets import DATASETS

    return [] if config["dataset"] in DATASETS else [config["dataset"]]


def dataset_checksum():
    """SHA-256 of the user's .npz (None for the named datasets, which no user replaces): a param
    of prepare_data, so that Snakemake reruns it, and everything after it, when the content
    changes, whatever the file's time says."""
    if dataset_file() and os.path.isfile(config["dataset"]):
        h = hashlib.sha256()
        with open(config["dataset"], "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        return h.hexdigest()
    return None


def for_runs(pattern, runs_=None):
    """``pattern`` formatted with the wildcards of every run (default: all of them)."""
    return [pattern.format(**r.wildcards) for r in (RUNS if runs_ is None else runs_)]


def carried_optimizer(w):
    """carry_optimizer: the train job of the next larger size is an input of this one."""
    prev = carried_from(SIZES, w.size, w.protocol)
    if prev is None:
        return {}
    run = RUN.format(**{**dict(w.items()), "size": prev})
    return {"optimizer": f"{run}/optimizer.npz", "optimizer_summary": f"{run}/summary.json"}


# --- resources: grow with n, the network and the attempt (genstudy/resources.py) -----------
def job_resource(rule, key):
    def value(w, attempt):
        return res.job_resources(rule, int(w.size), list(parse_hidden_key(w.hidden)), attempt, config, DATA)[key]

    return value


# --- targets -------------------------------------------------------------------------------
def run_outputs():
    """Every file of every run, so deleting any of them rebuilds it and what depends on it."""
    files = [f"{RUN}/{name}" for name in TRAIN_FILES]
    files += [f"{MEASURED}/{c}.json" for c in CHECKPOINTS] + [f"{MEASURED}/{c}_density.npz" for c in CHECKPOINTS]
    return sorted({p for pattern in files for p in for_runs(pattern)} | set(for_runs(SUBSET)) | set(for_runs(INIT)))


def figure_paths():
    figures = [f"{R}/figures/training_{c}_label_modes.png" for c in CHECKPOINTS]
    figures += [f"{R}/figures/training_{m}_checkpoints.png" for m in LABEL_MODES]
    figures += [f"{R}/figures/measures_{f}.png" for f in PLOTTED_FAMILIES]
    figures += [f"{R}/figures/{name}.png" for name in ("hessian_density", "ranking", "robust_sign_error")]
    figures += [f"{R}/figures/{name}.png" for name in axis_figures()]
    if CARRY:
        figures.append(f"{R}/figures/original_comparison.png")
    return figures


def axis_figures():
    """Figures against the axes besides size that this study varies, one per family of measures."""
    return [f"against_{axis}_{f}" for axis in varying_axes(config) if axis != "size" for f in PLOTTED_FAMILIES]


def all_outputs():
    names = (
        "training",
        "measures",
        "rank_correlation",
        "granulated_kendall",
        "ranking_intervals",
        "paired_differences",
        "robust_sign_error",
    )
    tables = [f"{R}/tables/{t}.{ext}" for t in names for ext in ("csv", "html")]
    tables += [f"{R}/tables/robust_sign_error_environments.csv", f"{R}/findings.md"]
    data = [f"{R}/data/{f}" for f in ("pool.npz", "test.npz", "dataset.json")]
    return tables + figure_paths() + data + run_outputs()
