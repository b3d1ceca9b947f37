# Helpers shared by the rules. Nothing here imports TensorFlow: a dry run must be instant.
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError

sys.path.insert(0, str(Path(workflow.current_basedir).parent / "scripts"))
from genstudy.config import ConfigError, check_config  # noqa: E402
from genstudy.contract import CHECKPOINTS  # noqa: E402
from genstudy.labels import LABEL_MODE_REGEX  # noqa: E402

try:
    check_config(config)
except ConfigError as exc:
    raise WorkflowError(f"Invalid configuration: {exc}") from None

SIZES = [int(n) for n in config["sizes"]]
SEEDS = [int(s) for s in config["seeds"]]
LABEL_MODES = list(config["label_modes"])
DEPTH = len(config["model"]["hidden"]) + 1
ENV = "../../environment.yml"


wildcard_constraints:
    label_mode=LABEL_MODE_REGEX,
    seed=r"\d+",
    size=r"\d+",
    checkpoint="|".join(CHECKPOINTS),


def run_dirs():
    return expand(
        "results/train/{label_mode}/n{size}/seed{seed}",
        label_mode=LABEL_MODES,
        size=SIZES,
        seed=SEEDS,
    )


def train_outputs(name):
    return [f"{d}/{name}" for d in run_dirs()]


def figure_paths():
    by_checkpoint = expand("results/figures/training_{checkpoint}_label_modes.png", checkpoint=CHECKPOINTS)
    by_mode = expand("results/figures/training_{label_mode}_checkpoints.png", label_mode=LABEL_MODES)
    return by_checkpoint + by_mode


def measure_jsons():
    return expand(
        "results/measures/{label_mode}/n{size}/seed{seed}/{ckpt}.json",
        label_mode=LABEL_MODES,
        size=SIZES,
        seed=SEEDS,
        ckpt=CHECKPOINTS,
    )


def run_files(pattern):
    """``pattern`` (with {size}) for every size of the job's label mode and seed."""
    return lambda w: expand(pattern, size=SIZES, label_mode=w.label_mode, seed=w.seed)


def all_outputs():
    tables = [
        "results/tables/training.csv",
        "results/tables/measures.csv",
        "results/tables/rank_correlation.csv",
    ]
    measure_figures = expand("results/figures/measures_{checkpoint}_label_modes.png", checkpoint=CHECKPOINTS)
    extra = ["results/figures/rank_correlation.png", "results/figures/hessian_density.png"]
    return tables + figure_paths() + measure_figures + extra
