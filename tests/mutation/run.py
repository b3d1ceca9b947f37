"""`make mutation`: mutation testing of the genstudy package with mutmut, module by module.

Builds a workspace per phase under results/mutation/ (the package, the tests of the phase,
mutmut's settings in a pyproject.toml), runs `mutmut run` there, reads every mutant's outcome,
and writes results/benchmarks/mutation.json:

    {"modules": {name: {"killed": k, "survived": s, "equivalent": e, "score": k / (k + s)}},
     "total": {...}, "survivors": [{"mutant", "module", "diff", "equivalent": reason or null}]}

Survivors listed in tests/mutation/equivalent.yaml (by function and changed line) are
equivalent mutants: no test can tell them from the original, and the file says why.
They are reported and kept out of the score; every other survivor is a missing test.
Mutants that no test reaches count as survived. Not part of `make test`: it takes long.

Every numpy mutant is run. A TensorFlow mutant costs a process with TensorFlow and the
training or curvature tests that reach it (tens of seconds), so that phase runs a fixed
sample: the mutants whose name hashes below ``sample`` (the same mutants every time, and
a new mutant is in or out by its name alone). Its score estimates the module's score
over all of its mutants; every sampled survivor is reported like any other.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
WORK = ROOT / "results" / "mutation"
# Two phases, each its own mutmut workspace: the numpy modules against the tests that do not
# start TensorFlow, and the TensorFlow modules (with the network they compute) against the
# targeted tests of curvature, the network and training, and the fast tests of the numpy side.
PHASES = {
    "numpy": {
        "modules": (
            "arrays",
            "config",
            "data",
            "datasets",
            "flatness",
            "labels",
            "norms",
            "ranking",
            "registry",
            "resources",
            "runs",
            "study",
            "tables",
        ),
        "tests": (
            "test_arrays.py",
            "test_config.py",
            "test_data.py",
            "test_datasets.py",
            "test_labels.py",
            "test_measures.py",
            "test_network.py",
            "test_one_source.py",
            "test_ranking.py",
            "test_registry.py",
            "test_resources.py",
            "test_runs.py",
            "test_study.py",
            "test_tables.py",
        ),
        "pytest": ["-m", "not tensorflow"],
        "sample": 1.0,
    },
    "tensorflow": {
        "modules": ("curvature", "model", "training"),
        "tests": (
            "test_arrays.py",
            "test_config.py",
            "test_data.py",
            "test_datasets.py",
            "test_labels.py",
            "test_measures.py",
            "test_network.py",
            "test_one_source.py",
            "test_ranking.py",
            "test_registry.py",
            "test_resources.py",
            "test_runs.py",
            "test_study.py",
            "test_tables.py",
            "test_training.py",
        ),
        "pytest": [],
        "sample": 0.15,
    },
}
# Human-readable text (error messages, log lines, notes) is not mutated: the tests pin what a
# message must name (the key, the file), not every word of it.
MESSAGE_LINES = [
    r"^\s*raise ",
    r"^\s*log\(",
    r"^\s*notes\.append\(",
    r"^\s*self\.log\(",
    r"^\s*(r|f|rf)?\"[^\"]*\"\)*,?\s*$",
    r"^\s*(r|f|rf)?'[^']*'\)*,?\s*$",
]
KILLED = {1, 3, 36, 24, -24, 152, 255, 37}  # a failing test, an internal error, a timeout


def build_workspace(work: Path, modules, tests, pytest_args) -> None:
    if work.exists():
        shutil.rmtree(work)
    (work / "tests").mkdir(parents=True)
    shutil.copytree(ROOT / "workflow/scripts/genstudy", work / "genstudy", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("conftest.py", "helpers.py", *tests):
        shutil.copy2(ROOT / "tests" / name, work / "tests" / name)
    shutil.copytree(ROOT / "tests/configs", work / "tests/configs")
    shutil.copytree(ROOT / ".test", work / ".test")
    for rel in ("workflow/schemas/config.schema.yaml", "workflow/rules/common.smk", "config.yaml"):  # read by tests
        (work / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, work / rel)
    (work / "pyproject.toml").write_text(
        "[tool.mutmut]\n"
        'source_paths = ["genstudy/"]\n'
        'also_copy = ["workflow/", "config.yaml"]\n'
        f"only_mutate = {json.dumps([f'genstudy/{m}.py' for m in modules])}\n"
        f"do_not_mutate_patterns = {json.dumps(MESSAGE_LINES)}\n"
        f"pytest_add_cli_args_test_selection = {json.dumps([f'tests/{t}' for t in tests])}\n"
        f"pytest_add_cli_args = {json.dumps(['-p', 'no:cacheprovider', *pytest_args])}\n"
        "# TensorFlow is not fork-safe once started: fork the workers from a clean server\n"
        'process_isolation = "forkserver"\n'
        "timeout_multiplier = 4.0\n"
    )


GENERATE = """
import os
from mutmut.__main__ import (copy_also_copy_files, copy_src_dir, create_mutants, set_mutant_under_test,
                             setup_source_paths, store_lines_covered_by_tests)
set_mutant_under_test("mutant_generation")
os.makedirs("mutants", exist_ok=True)
copy_src_dir(); copy_also_copy_files(); setup_source_paths(); store_lines_covered_by_tests(); create_mutants(2)
"""


def in_sample(mutant: str, fraction: float) -> bool:
    digest = hashlib.sha256(mutant.encode()).digest()
    return int.from_bytes(digest[:8], "big") < fraction * 2**64


def run_mutmut(work: Path, max_children: int, sample: float) -> None:
    cmd = [str(Path(sys.executable).with_name("mutmut")), "run", "--max-children", str(max_children)]
    if sample < 1.0:  # mutmut names the mutants only once it has made them: make them, then pick
        subprocess.run([sys.executable, "-c", GENERATE], cwd=work, check=True)
        cmd += sorted(m for m in outcomes(work, run_only=False) if in_sample(m, sample))
    subprocess.run(cmd, cwd=work, check=False)


def outcomes(work: Path, run_only: bool = True) -> dict[str, int | None]:
    """Every mutant's exit code, from mutmut's .meta files (None: not run, left out of the sample)."""
    codes = {}
    for meta in (work / "mutants").rglob("*.py.meta"):
        codes.update(json.loads(meta.read_text()).get("exit_code_by_key", {}))
    return {m: c for m, c in codes.items() if c is not None or not run_only}


DIFFS = """
import json, sys
from mutmut.__main__ import find_mutant
from mutmut.mutation.diff_apply import get_diff_for_mutant
print(json.dumps({name: get_diff_for_mutant(name, path=find_mutant(name).path) for name in json.load(sys.stdin)}))
"""


def diffs(work: Path, mutants: list[str]) -> dict[str, str]:
    """The changed lines of each mutant, from mutmut in one process (its config is read from ``work``)."""
    proc = subprocess.run(
        [sys.executable, "-c", DIFFS], cwd=work, input=json.dumps(mutants), capture_output=True, text=True, check=True
    )
    return {
        name: "\n".join(line for line in text.splitlines() if line[:1] in "+-" and not line.startswith(("+++", "---")))
        for name, text in json.loads(proc.stdout.splitlines()[-1]).items()
    }


def module_of(mutant: str) -> str:
    return mutant.split(".")[1]


def function_of(mutant: str) -> str:
    name = mutant.split(".")[-1].split("__mutmut_")[0]
    return re.sub(r"^x[_ǁ]", "", name).replace("ǁ", ".")


def equivalent_reason(mutant: str, change: str, known: list[dict]) -> str | None:
    """The reason of the first entry whose function matches and whose ``change`` (a regular
    expression) is found in the mutant's diff."""
    for entry in known:
        if entry["function"] == function_of(mutant) and re.search(entry["change"], change, re.MULTILINE):
            return entry["reason"]
    return None


def summarise(codes: dict[str, tuple[Path, int]], known: list[dict]) -> dict:
    modules, survivors = {}, []
    alive = {}
    for mutant, (work, code) in codes.items():
        if code not in KILLED:
            alive.setdefault(work, []).append(mutant)
    changes = {k: v for work, names in alive.items() for k, v in diffs(work, names).items()}
    for mutant, (_work, code) in sorted(codes.items()):
        m = modules.setdefault(module_of(mutant), {"killed": 0, "survived": 0, "equivalent": 0})
        if code in KILLED:
            m["killed"] += 1
            continue
        change = changes[mutant]
        reason = equivalent_reason(mutant, change, known)
        m["equivalent" if reason else "survived"] += 1
        survivors.append(
            {
                "mutant": mutant,
                "module": module_of(mutant),
                "function": function_of(mutant),
                "outcome": "no tests" if code in (5, 33) else "survived",
                "diff": change,
                "equivalent": reason,
            }
        )
    for m in modules.values():
        tested = m["killed"] + m["survived"]
        m["score"] = round(m["killed"] / tested, 4) if tested else None
    total = {k: sum(m[k] for m in modules.values()) for k in ("killed", "survived", "equivalent")}
    total["score"] = round(total["killed"] / (total["killed"] + total["survived"]), 4)
    return {"modules": modules, "total": total, "survivors": survivors}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="results/benchmarks/mutation.json")
    ap.add_argument("--max-children", type=int, default=2)
    ap.add_argument("--phases", nargs="+", default=list(PHASES), choices=list(PHASES))
    ap.add_argument("--reuse", action="store_true", help="summarise the last run without running mutmut again")
    args = ap.parse_args(argv)
    codes = {}
    if not args.reuse:
        for name in args.phases:
            phase, work = PHASES[name], WORK / name
            began = time.time()
            build_workspace(work, phase["modules"], phase["tests"], phase["pytest"])
            run_mutmut(work, args.max_children, phase["sample"])
            (work / "seconds").write_text(f"{time.time() - began:.0f}\n")
    summarised = [name for name in PHASES if (WORK / name / "mutants").is_dir()]  # the last run of each phase
    for name in summarised:
        codes.update({mutant: (WORK / name, code) for mutant, code in outcomes(WORK / name).items()})
    known = yaml.safe_load((ROOT / "tests/mutation/equivalent.yaml").read_text()) or []
    doc = summarise(codes, known)
    for name in summarised:  # how many mutants each module has, and how many of them were run
        for mutant in outcomes(WORK / name, run_only=False):
            doc["modules"].setdefault(module_of(mutant), {"killed": 0, "survived": 0, "equivalent": 0, "score": None})
            m = doc["modules"][module_of(mutant)]
            m["mutants"] = m.get("mutants", 0) + 1
            m["sample"] = PHASES[name]["sample"]
    doc["meta"] = {
        "seconds": {k: int((WORK / k / "seconds").read_text()) for k in summarised},
        "phases": {k: PHASES[k] for k in summarised},
        "not_mutated": MESSAGE_LINES,
    }
    out = ROOT / args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    report(doc, out)


def report(doc: dict, out: Path) -> None:
    print(f"{'module':12s} {'mutants':>7s} {'sample':>6s} {'killed':>7s} {'survived':>9s} {'equiv.':>7s} {'score':>6s}")
    for name, m in sorted(doc["modules"].items()):
        print(
            f"{name:12s} {m['mutants']:7d} {m['sample']:6.0%} {m['killed']:7d} {m['survived']:9d} "
            f"{m['equivalent']:7d} {m['score'] or 0:6.1%}"
        )
    t = doc["total"]
    print(f"{'total':12s} {'':7s} {'':6s} {t['killed']:7d} {t['survived']:9d} {t['equivalent']:7d} {t['score']:6.1%}")
    unexplained = [s for s in doc["survivors"] if not s["equivalent"]]
    print(
        f"{len(unexplained)} survivors without a reason; {sum(doc['meta']['seconds'].values())} s of mutmut; "
        f"written to {out}"
    )


if __name__ == "__main__":
    main()
