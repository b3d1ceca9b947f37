"""The workflow through a real SLURM controller and node daemon on this machine, with the SLURM profile."""

import os
import re
import subprocess
import time
from datetime import datetime

import pytest
from slurm_cluster import slurm_cluster, why_unavailable

from helpers import ROOT, TINY_CONFIG, run_snakemake

pytestmark = pytest.mark.slow

TABLES = ("training.csv", "measures.csv", "rank_correlation.csv", "granulated_kendall.csv")


def require_cluster():
    reason = why_unavailable()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the SLURM test, but it cannot here: {reason}")
        pytest.skip(f"no SLURM cluster can be started here: {reason}")


def overlapping(records) -> int:
    """The most of these SLURM jobs (``scontrol show jobs -o`` lines) that ran at one time."""
    spans = []
    for r in records:
        start, end = (datetime.fromisoformat(re.search(rf"{k}=(\S+)", r).group(1)) for k in ("StartTime", "EndTime"))
        spans.append((start, end))
    return max(sum(s < end and start < e for s, e in spans) for start, end in spans)


def test_tiny_study_through_slurm_matches_local_run_with_one_submission_per_run(tiny_study, tmp_path, monkeypatch):
    require_cluster()
    with slurm_cluster() as env:
        for k, v in env.items():
            if k.startswith("SLURM"):
                monkeypatch.setenv(k, v)
        t0 = time.time()
        proc = run_snakemake(
            tmp_path,
            "--workflow-profile",
            str(ROOT / "profiles" / "slurm"),
            "--slurm-status-command",
            "squeue",
            "--slurm-no-account",
            "--slurm-keep-successful-logs",
            "--slurm-init-seconds-before-status-checks",
            "2",
            "--jobs",
            "4",
            configfile=TINY_CONFIG,
            timeout=1500,
        )
        wall = time.time() - t0
        jobs = subprocess.run(["scontrol", "show", "jobs", "-o"], capture_output=True, text=True, env=env).stdout
    print(f"tiny study through SLURM: {wall:.0f} s wall")
    out = proc.stdout + proc.stderr
    records = [line for line in jobs.splitlines() if "JobId=" in line and "JobState=COMPLETED" in line]
    # the tiny study's 4 runs (2 label modes × 2 sizes): each train job and each measures job is
    # a submission of its own, on one core, and nothing else went to SLURM
    train = [r for r in records if "Comment=rule_train" in r]
    measures = [r for r in records if "Comment=rule_measures" in r]
    assert len(train) == 4 and len(measures) == 4 and len(records) == 8, (jobs[-3000:], out[-3000:])
    assert all("NumCPUs=1 " in r for r in train + measures), jobs[-3000:]
    # the runs fan out: the node's 2 cores ran two train jobs at once
    assert overlapping(train) >= 2, jobs[-3000:]
    for table in TABLES:
        local = (tiny_study / "results/tiny/tables" / table).read_bytes()
        assert (tmp_path / "results/tiny/tables" / table).read_bytes() == local, table
