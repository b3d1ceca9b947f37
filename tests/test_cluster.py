"""The workflow through a real SLURM controller and node daemon on this machine, with the SLURM profile."""

import os
import subprocess
import time

import pandas as pd
import pytest
from slurm_cluster import slurm_cluster, why_unavailable

from conftest import ROOT, TINY_CONFIG, run_snakemake
from genstudy.contract import CHECKPOINTS

pytestmark = pytest.mark.slow

TABLES = ("training.csv", "measures.csv")


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
            "--config",
            "seeds=[0,1]",  # two train jobs (one per seed), for the profile to group
            configfile=TINY_CONFIG,
            timeout=1500,
        )
        wall = time.time() - t0
        jobs = subprocess.run(["scontrol", "show", "jobs", "-o"], capture_output=True, text=True, env=env).stdout
    print(f"tiny study with two seeds through SLURM: {wall:.0f} s wall")
    out = proc.stdout + proc.stderr
    records = [line for line in jobs.splitlines() if "JobId=" in line and "JobState=COMPLETED" in line]
    # the two train jobs (one per seed, each training both label modes and sizes) went to the
    # cluster as one group job (the profile groups 2 at a time), one after another on one core ...
    groups = [r for r in records if "Comment=rule_train_train" in r]
    assert len(groups) == 1 and "NumCPUs=1 " in groups[0], (jobs[-3000:], out[-3000:])
    logs = list((tmp_path / ".snakemake" / "slurm_logs" / "group_train_train").rglob("*.log"))
    assert len(logs) == 1 and logs[0].read_text().count("Finished jobid") >= 2, logs
    # ... the four measures jobs (label modes × seeds) each as their own job, and nothing else
    measures = [r for r in records if "Comment=rule_measures" in r]
    assert len(measures) == 4 and len(records) == 5, (jobs[-3000:], out[-3000:])
    # seed 0's runs are the local tiny study's, to the byte
    local_root, cluster_root = tiny_study / "results/tiny", tmp_path / "results/tiny"
    seed0 = [p.relative_to(local_root) for d in ("train", "measures") for p in (local_root / d).rglob("seed0/*")]
    assert len(seed0) >= 2 * 2 * (len(CHECKPOINTS) + 4)
    for name in seed0:
        assert (cluster_root / name).read_bytes() == (local_root / name).read_bytes(), name
    for table in TABLES:
        local = pd.read_csv(local_root / "tables" / table)
        both = pd.read_csv(cluster_root / "tables" / table)
        assert set(both.seed) == {0, 1}
        pd.testing.assert_frame_equal(both[both.seed == 0].reset_index(drop=True), local, check_exact=True)
