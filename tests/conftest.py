import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "workflow" / "scripts"))
sys.path.insert(0, str(ROOT / "tools"))  # the benchmark tools' pure functions (jobtimes)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from helpers import TINY_CONFIG, run_snakemake  # noqa: E402

# Fixtures that run the real workflow (or install something): a test that uses one is slow.
SLOW_FIXTURES = {"tiny_study", "tiny_copy", "uninterrupted", "oldest_snakemake", "snakedeploy", "loss0_checkpoints"}


def pytest_collection_modifyitems(config, items):
    """Mark ``slow`` every test that runs the real workflow, trains the default network or starts
    a cluster; ``make test-fast`` runs the rest (unit and numeric tests, dry runs)."""
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def mnist5k_pool():
    from genstudy.data import prepare_pool_and_test

    return prepare_pool_and_test("mnist5k", 1000, 0)[:4]


@pytest.fixture(scope="session")
def tiny_study(tmp_path_factory):
    """The tiny config run locally once, shared by every test that reads its results."""
    work = tmp_path_factory.mktemp("tiny_study")
    run_snakemake(work, "--cores", "2", configfile=TINY_CONFIG)
    return work
