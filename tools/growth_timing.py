"""The timing of one Snakemake run that grew a study by new seeds, read from the files it left:
its wall time (the log's "Elapsed time"), job time per rule, and the per-run job time of the new
runs (their ``benchmarks/``), with what that rate gives for the whole study on the same cores.

    python tools/growth_timing.py WORKDIR STUDY --seeds 10 11 12 13 --cores 2 --out results/benchmarks/X.json

A benchmark, not a test: it reports what one machine took, nothing more.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import yaml

from genstudy.findings import git_commit
from jobtimes import newest_log, study_timings

ELAPSED = re.compile(r"^Elapsed time: (\d+):(\d\d):(\d\d(?:\.\d+)?)$", re.M)


def elapsed_seconds(snakemake_log: str) -> float:
    """Snakemake's own wall time of a finished run (its last "Elapsed time" line)."""
    h, m, s = ELAPSED.findall(snakemake_log)[-1]
    return int(h) * 3600 + int(m) * 60 + float(s)


def benchmark_seconds(study_dir: Path, rule: str, seeds) -> list[float]:
    """The ``s`` column of the benchmarks of ``rule``'s jobs for the given seeds."""
    names = {f"seed{s}.tsv" for s in seeds}
    files = [p for p in (study_dir / "benchmarks" / rule).rglob("*.tsv") if p.name in names]
    return [float(p.read_text().splitlines()[1].split("\t")[0]) for p in files]


def growth_timing(workdir: Path, study: str, seeds, cores: int, config: Path) -> dict:
    wall = elapsed_seconds(newest_log(workdir).read_text())
    timings = study_timings(workdir, study, wall)
    per_rule = {rule: benchmark_seconds(workdir / "results" / study, rule, seeds) for rule in ("train", "measures")}
    new_runs = len(per_rule["train"])
    run_s = sum(map(sum, per_rule.values())) / new_runs
    cfg = yaml.safe_load(config.read_text())
    total_runs = new_runs // len(seeds) * len(cfg["seeds"])
    return {
        "study": study,
        "commit": git_commit(workdir),
        "cores": cores,
        "new_seeds": list(seeds),
        "new_runs": new_runs,
        "new_runs_job_s": {rule: round(sum(s), 1) for rule, s in per_rule.items()},
        "job_s_per_run": round(run_s, 1),
        "study_runs": total_runs,
        "study_run_jobs_s_on_cores": round(total_runs * run_s / cores, 1),
        "growth": timings,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workdir", type=Path)
    parser.add_argument("study")
    parser.add_argument("--seeds", type=int, nargs="+", required=True)
    parser.add_argument("--cores", type=int, required=True)
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    result = growth_timing(args.workdir, args.study, args.seeds, args.cores, args.config)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
