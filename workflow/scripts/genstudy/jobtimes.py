"""Where a study's time goes, read from the files a run leaves: Snakemake's log (every job's
start and end) and the train jobs' logs (TensorFlow's start-up and each run's compilation).

Pure functions over text, no TensorFlow; ``workflow/scripts/benchmark_study.py`` runs the
studies and writes what these return to ``results/benchmarks/study.json``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import datetime
from pathlib import Path

STAMP = re.compile(r"^\[(\w{3} \w{3} +\d+ \d\d:\d\d:\d\d \d{4})\]$")
JOB_START = re.compile(r"^(?:local)?(?:rule|checkpoint) (\w+):$")
JOB_ID = re.compile(r"^\s+jobid: (\d+)$")
JOB_END = re.compile(r"^Finished jobid: (\d+) \(Rule: (\w+)\)$")

# What a train job's log says of its start-up, apart from training: one TensorFlow import
# per job, then per run the time to build, trace and XLA-compile its loop. Before
# CompiledRun.compile existed the log only had the first chunk's time, compilation included.
STARTUP_LINES = {
    "tensorflow_s": re.compile(r"^TensorFlow ready ([\d.]+) s"),
    "compile_s": re.compile(r"^compiled in ([\d.]+) s"),
    "reuse_s": re.compile(r"^set up in ([\d.]+) s on the loop of an earlier run"),
    "first_chunk_s": re.compile(r"^first chunk incl\. XLA compilation: ([\d.]+) s"),
}


def job_seconds(snakemake_log: str) -> dict[str, list[float]]:
    """Wall seconds of every finished job, by rule, from the time stamps of a Snakemake log
    (whole seconds: Snakemake stamps to the second)."""
    stamp, pending, started = None, None, {}
    seconds = defaultdict(list)
    for line in snakemake_log.splitlines():
        if m := STAMP.match(line):
            stamp = datetime.strptime(m.group(1), "%a %b %d %H:%M:%S %Y")
        elif m := JOB_START.match(line):
            pending = stamp
        elif (m := JOB_ID.match(line)) and pending is not None:
            started[m.group(1)], pending = pending, None
        elif (m := JOB_END.match(line)) and m.group(1) in started:
            seconds[m.group(2)].append((stamp - started.pop(m.group(1))).total_seconds())
    return dict(seconds)


def startup_seconds(train_logs) -> dict:
    """Start-up summed over train job logs (texts): TensorFlow imports, compilations, the set-up
    of runs on a loop an earlier run compiled, the number of runs and how many compiled."""
    total = dict.fromkeys(STARTUP_LINES, 0.0) | {"runs": 0, "compiled_runs": 0}
    for text in train_logs:
        for line in text.splitlines():
            for key, pattern in STARTUP_LINES.items():
                if m := pattern.match(line):
                    total[key] += float(m.group(1))
                    total["runs"] += key != "tensorflow_s"
                    total["compiled_runs"] += key in ("compile_s", "first_chunk_s")
    return total


def study_timings(workdir: Path, study: str, wall_s: float) -> dict:
    """The timings of a finished run of ``study`` in ``workdir``: its wall time, job time per
    rule, the train jobs' start-up and its share of their time, and the measures' share of
    all job time."""
    workdir = Path(workdir)
    log = max((workdir / ".snakemake" / "log").glob("*.snakemake.log"), key=lambda p: p.stat().st_mtime)
    per_rule = {rule: s for rule, s in job_seconds(log.read_text()).items() if rule != "all"}
    rules = {rule: {"jobs": len(s), "job_s": round(sum(s), 1)} for rule, s in sorted(per_rule.items())}
    job_s = sum(r["job_s"] for r in rules.values())
    train_logs = [p.read_text() for p in sorted((workdir / "results" / study / "logs" / "train").rglob("*.log"))]
    startup = startup_seconds(train_logs)
    startup_s = sum(startup[k] for k in STARTUP_LINES)
    train_s = rules.get("train", {}).get("job_s", 0.0)
    return {
        "wall_s": round(wall_s, 1),
        "job_s": round(job_s, 1),
        "rules": rules,
        "train": {
            "jobs": rules.get("train", {}).get("jobs", 0),
            "runs": startup["runs"],
            "compiled_runs": startup["compiled_runs"],
            "job_s": train_s,
            **{k: round(startup[k], 1) for k in STARTUP_LINES},
            "startup_s": round(startup_s, 1),
            "startup_share": round(startup_s / train_s, 3) if train_s else None,
        },
        "measures_share": round(rules.get("measures", {}).get("job_s", 0.0) / job_s, 3) if job_s else None,
    }


RESULT_FILES = ("tables/*.csv", "train/**/*", "measures/**/*", "subsets/**/*", "init/**/*")


def differing_files(a: Path, b: Path, patterns=RESULT_FILES) -> list:
    """Files of two runs' results of one study that differ in content or exist in one only
    (relative paths): empty when the two runs wrote the same numbers."""
    a, b = Path(a), Path(b)
    names = {p.relative_to(root) for root in (a, b) for pattern in patterns for p in root.glob(pattern) if p.is_file()}
    return sorted(
        str(n)
        for n in names
        if not ((a / n).is_file() and (b / n).is_file() and (a / n).read_bytes() == (b / n).read_bytes())
    )
