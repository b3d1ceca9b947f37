"""Wall time of whole studies, and where it goes, each run fresh in a scratch directory.

    python tools/benchmark_study.py --out results/benchmarks/study.json \
        [--configs config.yaml config/presets/jiang2019.yaml] [--cores 2] [--baseline COMMIT]

For every config: ``snakemake --cores N`` of the whole study (as ``make run`` runs it, with
the local profile), then its report, each timed; from Snakemake's log the job time per rule;
from the train jobs' logs their start-up (TensorFlow import, then per run the build and XLA
compilation of its loop) and its share of the train jobs' time; the measures' share of all
job time (``tools/jobtimes.py``). With ``--baseline`` the same studies also run from that
commit (a git worktree), one after the other with the current tree's, so the ratios
compare like with like; the results of the two are compared file by file (checkpoints,
histories, subsets, measures, tables): ``identical_to_baseline``. Benchmarks are not
tests: nothing here fails on a slow machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import yaml

from jobtimes import differing_files, study_timings

ROOT = Path(__file__).resolve().parents[1]


def snakemake(snakefile: Path, config: Path, workdir: Path, cores: int, *extra: str) -> float:
    """Run Snakemake; its seconds of wall time. Output goes to ``workdir``/benchmark.log."""
    profile = snakefile.parent / "profiles" / "local"
    command = [shutil.which("snakemake") or "snakemake", "-s", str(snakefile), "-d", str(workdir)]
    command += ["--workflow-profile", str(profile), "--configfile", str(config), "--cores", str(cores), *extra]
    # each tree's study runs its own genstudy, not the one installed from the current tree
    env = {**os.environ, "PYTHONPATH": str(snakefile.parent / "workflow" / "scripts")}
    started = time.perf_counter()
    with open(workdir / "benchmark.log", "a") as log:
        subprocess.run(command, check=True, stdout=log, stderr=subprocess.STDOUT, env=env)
    return time.perf_counter() - started


def run_study(snakefile: Path, config: Path, workdir: Path, cores: int) -> dict:
    """A fresh run of the study of ``config`` in ``workdir``, then its report; their timings."""
    workdir.mkdir(parents=True)
    wall = snakemake(snakefile, config, workdir, cores)
    study = next(p.name for p in (workdir / "results").iterdir() if p.is_dir())
    timings = study_timings(workdir, study, wall)  # before the report, whose run writes a log of its own
    report = snakemake(snakefile, config, workdir, 1, "--report", f"results/{study}/report.html")
    return {"study": study, **timings, "report_s": round(report, 1)}


def ratios(before: dict, after: dict) -> dict:
    """before / after of the times that matter, and the shares side by side."""
    pick = {
        "wall": lambda t: t["wall_s"],
        "job": lambda t: t["job_s"],
        "train_jobs": lambda t: t["train"]["job_s"],
        "train_startup": lambda t: t["train"]["startup_s"],
        "measures_jobs": lambda t: t["rules"].get("measures", {}).get("job_s", 0.0),
        "measures_startup": lambda t: t.get("measures", {}).get("startup_s", 0.0),
    }
    out = {f"{k}_speedup": round(f(before) / f(after), 2) if f(after) else None for k, f in pick.items()}
    out["startup_share"] = [before["train"]["startup_share"], after["train"]["startup_share"]]
    out["measures_startup_share"] = [
        before.get("measures", {}).get("startup_share"),
        after["measures"]["startup_share"],
    ]
    out["measures_share"] = [before["measures_share"], after["measures_share"]]
    return out


def commit_of(tree: Path) -> str:
    return subprocess.run(["git", "-C", str(tree), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="results/benchmarks/study.json")
    ap.add_argument("--configs", nargs="+", default=["config.yaml", "config/presets/jiang2019.yaml"])
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--baseline", help="a commit to run the same studies from, for before/after ratios")
    ap.add_argument("--keep", action="store_true", help="keep the scratch directories (printed)")
    args = ap.parse_args(argv)
    scratch = Path(tempfile.mkdtemp(prefix="study-bench-"))
    trees = {"current": ROOT}
    if args.baseline:  # run first, so that warm file caches do not favour the current tree
        trees = {"baseline": scratch / "baseline-tree", **trees}
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(trees["baseline"]), args.baseline], check=True
        )
    doc = {"cores": args.cores, "commit": commit_of(ROOT), "studies": {}}
    try:
        for config in args.configs:
            name = (yaml.safe_load((ROOT / config).read_text()) or {}).get("study", Path(config).stem)
            runs = {}
            for label, tree in trees.items():
                print(f"{name}: running the {label} tree ({tree}) ...", flush=True)
                # each tree runs the study as its own commit defines it (a new key is unknown to an old schema)
                own = tree / config if (tree / config).exists() else ROOT / config
                runs[label] = run_study(tree / "Snakefile", own, scratch / label / name, args.cores)
            entry = {"config": config, **runs["current"]}
            if "baseline" in runs:
                study = runs["current"]["study"]
                differ = differing_files(
                    scratch / "baseline" / name / "results" / study, scratch / "current" / name / "results" / study
                )
                entry["baseline"] = {"commit": commit_of(trees["baseline"]), **runs["baseline"]}
                entry["ratios"] = ratios(runs["baseline"], runs["current"])
                exact = differing_files(
                    scratch / "baseline" / name / "results" / study,
                    scratch / "current" / name / "results" / study,
                    exact=True,
                )
                entry["identical_to_baseline"] = not differ
                entry["differing_files"] = differ[:20]
                # histories and summaries whose bytes differ but whose numbers agree (test_every)
                entry["agreeing_but_not_byte_identical"] = {"files": len(exact) - len(differ), "e.g.": exact[:4]}
            doc["studies"][name] = entry
            print(json.dumps(entry, indent=2), flush=True)
    finally:
        if args.baseline:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(trees["baseline"])], check=False
            )
        if args.keep:
            print(f"scratch directories kept in {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    doc["meta"] = {
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "note": "job_s: wall seconds of jobs summed per rule (Snakemake's log, whole seconds); "
        "startup: TensorFlow import per train or measures job + build and XLA compilation per run "
        "(the jobs' logs); identical_to_baseline: every checkpoint, measure, subset and table byte-identical, "
        "histories identical where both evaluated the test set (train.test_every)",
    }
    out = ROOT / args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"written to {out}")


if __name__ == "__main__":
    main()
