"""Where a study's time goes, read from the files a run leaves: Snakemake's log (every job's
start and end) and the train and measures jobs' logs (TensorFlow's start-up, and each train
run's compilation).

Pure functions over text, no TensorFlow; ``tools/benchmark_study.py`` runs the
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

# What a job's log says of its start-up, apart from its work: one TensorFlow import per job,
# then (train jobs) per run the time to build, trace and XLA-compile its loop. Before
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


def newest_log(workdir: Path) -> Path:
    """The log of the latest Snakemake run in ``workdir``."""
    return max((Path(workdir) / ".snakemake" / "log").glob("*.snakemake.log"), key=lambda p: p.stat().st_mtime)


def study_timings(workdir: Path, study: str, wall_s: float) -> dict:
    """The timings of a finished run of ``study`` in ``workdir``: its wall time, job time per
    rule, the train and measures jobs' start-up and its share of their time (per job and in
    all), and the measures' share of all job time."""
    workdir = Path(workdir)
    per_rule = {rule: s for rule, s in job_seconds(newest_log(workdir).read_text()).items() if rule != "all"}
    rules = {rule: {"jobs": len(s), "job_s": round(sum(s), 1)} for rule, s in sorted(per_rule.items())}
    job_s = sum(r["job_s"] for r in rules.values())
    heavy = {
        rule: rule_startup(workdir / "results" / study / "logs" / rule, rules.get(rule, {})) for rule in HEAVY_RULES
    }
    return {
        "wall_s": round(wall_s, 1),
        "job_s": round(job_s, 1),
        "rules": rules,
        **heavy,
        "measures_share": round(rules.get("measures", {}).get("job_s", 0.0) / job_s, 3) if job_s else None,
    }


HEAVY_RULES = ("train", "measures")  # the rules that import TensorFlow


def rule_startup(log_dir: Path, rule: dict) -> dict:
    """Start-up of one rule's jobs, read from their logs: the sums of ``STARTUP_LINES``, their
    total, its share of the rule's job time, and the job time and start-up per job."""
    startup = startup_seconds([p.read_text() for p in sorted(Path(log_dir).rglob("*.log"))])
    startup_s = sum(startup[k] for k in STARTUP_LINES)
    jobs, job_s = rule.get("jobs", 0), rule.get("job_s", 0.0)
    return {
        "jobs": jobs,
        "runs": startup["runs"],
        "compiled_runs": startup["compiled_runs"],
        "job_s": job_s,
        **{k: round(startup[k], 1) for k in STARTUP_LINES},
        "startup_s": round(startup_s, 1),
        "startup_share": round(startup_s / job_s, 3) if job_s else None,
        "job_s_per_job": round(job_s / jobs, 2) if jobs else None,
        "startup_s_per_job": round(startup_s / jobs, 2) if jobs else None,
    }


RESULT_FILES = ("tables/*.csv", "train/**/*", "measures/**/*", "subsets/**/*", "init/**/*")


def _histories_agree(a: bytes, b: bytes) -> bool:
    """Two history.csv files agree where both evaluated: every epoch and training column
    identical, each test field identical or empty in one of them (``train.test_every``)."""
    rows_a, rows_b = (text.decode().splitlines() for text in (a, b))
    if len(rows_a) != len(rows_b) or rows_a[:1] != rows_b[:1]:
        return False
    for row_a, row_b in zip(rows_a[1:], rows_b[1:]):
        fa, fb = row_a.split(","), row_b.split(",")
        if len(fa) != len(fb) or fa[:3] != fb[:3]:
            return False
        if any(x != y and x and y for x, y in zip(fa[3:], fb[3:])):
            return False
    return True


def _records_agree(a: bytes, b: bytes) -> bool:
    """Two measures records agree when every field they share is equal and the newer only adds
    what says which file it is (``identity``: its study and the checkpoint's SHA-256)."""
    import json

    da, db = (json.loads(text) for text in (a, b))
    added = {"study", "checkpoint_sha256"}
    return {k: v for k, v in da.items() if k not in added} == {k: v for k, v in db.items() if k not in added}


def _subsets_agree(a: bytes, b: bytes) -> bool:
    """Two subset files agree when every array but ``identity`` (what the file says it is) is equal."""
    import io

    import numpy as np

    with np.load(io.BytesIO(a)) as fa, np.load(io.BytesIO(b)) as fb:
        names = set(fa.files) - {"identity"}
        return names == set(fb.files) - {"identity"} and all(np.array_equal(fa[k], fb[k]) for k in names)


def _summaries_agree(a: bytes, b: bytes) -> bool:
    """Two summary.json files agree but for ``test_every``, which only says how the history was
    written, and the identity a summary carries (its study and its run's file hashes)."""
    import json

    added = {"test_every", "study", "files"}
    da, db = (json.loads(text) for text in (a, b))
    return {k: v for k, v in da.items() if k not in added} == {k: v for k, v in db.items() if k not in added}


# Files whose bytes may differ between two runs of the same numbers: a comparison per kind of file.
AGREEMENT = (
    (lambda p: p.name == "history.csv", _histories_agree),
    (lambda p: p.name == "summary.json", _summaries_agree),
    (lambda p: p.parts[0] == "measures" and p.suffix == ".json", _records_agree),
    (lambda p: p.parts[0] == "subsets", _subsets_agree),
)


def differing_files(a: Path, b: Path, patterns=RESULT_FILES, exact: bool = False) -> list:
    """Files of two runs' results of one study that differ or exist in one only (relative
    paths): empty when the two runs wrote the same numbers. Histories, summaries, measures records
    and subsets are compared by ``AGREEMENT`` unless ``exact``; every other file (checkpoints,
    tables) byte by byte."""
    a, b = Path(a), Path(b)
    names = {p.relative_to(root) for root in (a, b) for pattern in patterns for p in root.glob(pattern) if p.is_file()}

    def same(n) -> bool:
        if not ((a / n).is_file() and (b / n).is_file()):
            return False
        x, y = (a / n).read_bytes(), (b / n).read_bytes()
        return x == y or (not exact and any(match(n) and agree(x, y) for match, agree in AGREEMENT))

    return sorted(str(n) for n in names if not same(n))
