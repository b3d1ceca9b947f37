"""The workflow through a real SLURM controller and node daemon on this machine, with the SLURM profile."""

import os
import subprocess
import time

import pytest
from slurm_cluster import slurm_cluster, why_unavailable

from conftest import ROOT, TINY_CONFIG, run_snakemake

pytestmark = pytest.mark.slow

TABLES = ("training.csv", "measures.csv", "rank_correlation.csv", "granulated_kendall.csv")


def require_cluster():
    reason = why_unavailable()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the SLURM test, but it cannot here: {reason}")
        pytest.skip(f"no SLURM cluster can be started here: {reason}")


def test_tiny_study_through_slurm_matches_local_run_with_train_jobs_grouped(tiny_study, tmp_path, monkeypatch):
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
    # the two train jobs (one per label mode, each training both sizes) went to the cluster as
    # one group job (the profile groups 4 at a time), one after another on one core ...
    groups = [r for r in records if "Comment=rule_train_train" in r]
    assert len(groups) == 1 and "NumCPUs=1 " in groups[0], (jobs[-3000:], out[-3000:])
    logs = list((tmp_path / ".snakemake" / "slurm_logs" / "group_train_train").rglob("*.log"))
    assert len(logs) == 1 and logs[0].read_text().count("Finished jobid") >= 2, logs
    # ... the two measures jobs each as their own job, and nothing else went to SLURM
    measures = [r for r in records if "Comment=rule_measures" in r]
    assert len(measures) == 2 and len(records) == 3, (jobs[-3000:], out[-3000:])
    for table in TABLES:
        local = (tiny_study / "results/tiny/tables" / table).read_bytes()
        assert (tmp_path / "results/tiny/tables" / table).read_bytes() == local, table
