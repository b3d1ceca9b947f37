"""The workflow through a real SLURM controller and node daemon on this machine."""
import os
import subprocess
import time

import pytest

from conftest import ROOT, TINY_CONFIG, run_snakemake
from slurm_cluster import slurm_cluster, why_unavailable

TABLES = ("training.csv", "measures.csv", "rank_correlation.csv")


def require_cluster():
    reason = why_unavailable()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the SLURM test, but it cannot here: {reason}")
        pytest.skip(f"no SLURM cluster can be started here: {reason}")


def test_tiny_study_through_slurm_matches_local_run(tiny_study, tmp_path, monkeypatch):
    require_cluster()
    with slurm_cluster() as env:
        for k, v in env.items():
            if k.startswith("SLURM"):
                monkeypatch.setenv(k, v)
        t0 = time.time()
        proc = run_snakemake(
            tmp_path, "--profile", str(ROOT / "profiles" / "slurm"),
            "--slurm-status-command", "squeue", "--slurm-no-account", "--slurm-keep-successful-logs",
            "--slurm-init-seconds-before-status-checks", "2", "--jobs", "4",
            "--default-resources", "slurm_partition=debug", "runtime=5", "mem_mb=500",
            configfile=TINY_CONFIG, timeout=1500)
        wall = time.time() - t0
        jobs = subprocess.run(["scontrol", "show", "jobs", "-o"], capture_output=True, text=True, env=env).stdout
    print(f"tiny study through SLURM: {wall:.0f} s wall")
    out = proc.stdout + proc.stderr
    # train and measures ran as SLURM jobs: the controller knows them, and each left a SLURM log
    records = [line for line in jobs.splitlines() if "JobId=" in line]
    for rule, count in (("train", 4), ("measures", 2)):
        ran = [r for r in records if f"Comment=rule_{rule}_" in r and "JobState=COMPLETED" in r]
        assert len(ran) == count, (rule, jobs[-3000:], out[-3000:])
        logs = list((tmp_path / ".snakemake" / "slurm_logs" / f"rule_{rule}").rglob("*.log"))
        assert len(logs) == count, (rule, logs)
    for table in TABLES:
        local = (tiny_study / "results" / "tables" / table).read_bytes()
        assert (tmp_path / "results" / "tables" / table).read_bytes() == local, table
