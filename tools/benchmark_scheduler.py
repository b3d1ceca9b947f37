"""Snakemake's own cost per job under its two schedulers, measured side by side in one run.

    python tools/benchmark_scheduler.py --out results/benchmarks/scheduler.json

A study of R runs has the shape subset → train → measures per run and one table over all of
them. This builds that DAG with jobs that do nothing (a shell ``cp``), so what is timed is the
scheduler and job dispatch alone, and runs it with ``--scheduler ilp`` (Snakemake's default
when PuLP is installed, as it is here) and ``--scheduler greedy``, alternating, for R = 48 (the
default study) and R = 160 (the question preset). It records the wall time and the CPU seconds
of Snakemake and its children (the same trivial jobs under both schedulers), and their ratios.
Benchmarks are not tests: nothing here fails on a slow machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SNAKEFILE = """
RUNS = range({runs})

rule all:
    input: "table.txt"

rule subset:
    output: "subsets/{{run}}.txt"
    shell: "echo {{wildcards.run}} > {{output}}"

rule train:
    input: "subsets/{{run}}.txt"
    output: "train/{{run}}.txt"
    shell: "cp {{input}} {{output}}"

rule measures:
    input: "train/{{run}}.txt"
    output: "measures/{{run}}.txt"
    shell: "cp {{input}} {{output}}"

rule table:
    input: expand("measures/{{run}}.txt", run=RUNS)
    output: "table.txt"
    shell: "cat {{input}} > {{output}}"
"""


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_once(snakemake: str, runs: int, scheduler: str, cores: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "Snakefile").write_text(SNAKEFILE.format(runs=runs))
        cpu0, t0 = children_cpu(), time.perf_counter()
        subprocess.run(
            [snakemake, "--cores", str(cores), "--scheduler", scheduler, "--quiet", "all"],
            cwd=tmp,
            check=True,
            capture_output=True,
        )
        return {"wall_s": time.perf_counter() - t0, "cpu_s": children_cpu() - cpu0}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--runs", type=int, nargs="+", default=[48, 160])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--cores", type=int, default=2)
    args = ap.parse_args(argv)
    snakemake = shutil.which("snakemake") or str(Path(sys.executable).with_name("snakemake"))
    studies = {}
    for runs in args.runs:
        samples = {"ilp": [], "greedy": []}
        for _ in range(args.repeats):
            for scheduler in samples:  # alternating, so drift in the machine's load hits both alike
                samples[scheduler].append(run_once(snakemake, runs, scheduler, args.cores))
        jobs = 3 * runs + 2
        row = {"runs": runs, "jobs": jobs}
        for scheduler, rows in samples.items():
            for key in ("wall_s", "cpu_s"):
                row[f"{scheduler}_{key}"] = round(statistics.median(r[key] for r in rows), 2)
            row[f"{scheduler}_wall_ms_per_job"] = round(1000 * row[f"{scheduler}_wall_s"] / jobs, 1)
        row["wall_ratio_ilp_over_greedy"] = round(row["ilp_wall_s"] / row["greedy_wall_s"], 2)
        row["cpu_ratio_ilp_over_greedy"] = round(row["ilp_cpu_s"] / row["greedy_cpu_s"], 2)
        studies[str(runs)] = row
        print(json.dumps(row))
    out = {
        "cores": args.cores,
        "studies": studies,
        "meta": {
            "machine": platform.machine(),
            "cpus": os.cpu_count(),
            "repeats": args.repeats,
            "load_average_at_end": os.getloadavg()[0],
            "note": "medians over repeats, schedulers alternating; jobs are trivial, so the times are "
            "Snakemake's scheduling and dispatch; cpu_s: Snakemake and its children",
        },
    }
    Path(args.out).write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
