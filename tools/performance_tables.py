"""Print docs/performance.md's tables from results/benchmarks/speed.json and study.json, so the
page quotes the files exactly (paste the output when a file changes; a test compares them)."""

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
METRICS = (
    "keras_fit_ms_per_epoch",
    "workflow_ms_per_epoch",
    "floor_ms_per_epoch",
    "floor_pruned_ms_per_epoch",
    "floor_pruned_eval_ms_per_epoch",
    "grad_ms",
    "hvp_ms",
    "measures_s_per_checkpoint",
    "measures_curvature_s",
    "measures_flatness_s",
    "speedup_vs_keras_fit",
    "overhead_vs_floor",
    "overhead_vs_pruned_floor",
    "overhead_vs_pruned_eval_floor",
    "hvp_over_grad",
)


def tables(speed: dict) -> str:
    r = speed["results"]
    sizes = sorted(r, key=lambda k: -int(k.lstrip("n")))
    out = ["| metric | " + " | ".join(f"n = {s.lstrip('n')}" for s in sizes) + " |", "|---|" + "---|" * len(sizes)]
    out += [f"| `{m}` | " + " | ".join(f"{r[s][m]:.2f}" for s in sizes) + " |" for m in METRICS if m in r[sizes[0]]]
    w = speed["widths"]["results"]
    out += [
        "",
        f"By width (two hidden layers, n = {speed['widths']['size']}):",
        "",
        "| width | parameters | workflow ms/epoch | pruned floor ms/epoch | ratio |",
        "|---|---|---|---|---|",
    ]
    out += [
        f"| {k} | {v['n_params']:,} | {v['workflow_ms_per_epoch']:.2f} | {v['floor_pruned_ms_per_epoch']:.2f} | "
        f"{v['overhead_vs_pruned_floor']:.2f} |"
        for k, v in sorted(w.items(), key=lambda kv: int(kv[0]))
    ]
    return "\n".join(out) + "\n"


def minutes(seconds: float) -> str:
    return f"{int(seconds // 60)} min {seconds % 60:04.1f} s"


def per_job(rule: dict) -> str:
    """A rule's mean job time and start-up per job."""
    return f"{rule['job_s_per_job']:.1f} s, {rule['startup_s_per_job']:.1f} s"


# The rows of the study table: label, and the value of one run of a study (study.json's entries).
STUDY_ROWS = (
    ("commit", lambda t: f"`{t['commit'][:7]}`" if "commit" in t else ""),
    ("wall time of the study", lambda t: minutes(t["wall_s"])),
    ("then its report", lambda t: f"{t['report_s']:.0f} s"),
    ("job time, all rules", lambda t: f"{t['job_s']:.0f} s"),
    (
        "train jobs (runs, of them compiled)",
        lambda t: f"{t['train']['jobs']} ({t['train']['runs']}, {t['train']['compiled_runs']})",
    ),
    ("train job time", lambda t: f"{t['train']['job_s']:.0f} s"),
    ("start-up: TensorFlow imports", lambda t: f"{t['train']['tensorflow_s']:.0f} s"),
    ("start-up: compilations", lambda t: f"{t['train']['compile_s'] + t['train']['first_chunk_s']:.0f} s"),
    ("start-up: runs on a loop compiled before", lambda t: f"{t['train']['reuse_s']:.0f} s"),
    ("start-up share of train job time", lambda t: f"{100 * t['train']['startup_share']:.0f} %"),
    ("train job: time, of it start-up", lambda t: per_job(t["train"])),
    ("measures jobs", lambda t: f"{t['measures']['jobs']}"),
    ("measures job time", lambda t: f"{t['rules'].get('measures', {}).get('job_s', 0):.0f} s"),
    ("measures start-up: TensorFlow imports", lambda t: f"{t['measures']['tensorflow_s']:.0f} s"),
    ("start-up share of measures job time", lambda t: f"{100 * t['measures']['startup_share']:.0f} %"),
    ("measures job: time, of it start-up", lambda t: per_job(t["measures"])),
    ("measures share of job time", lambda t: f"{100 * t['measures_share']:.0f} %"),
)


def study_table(study: dict) -> str:
    """One column per run (the baseline's, then the current tree's) of every study."""
    columns = []
    for name, entry in study["studies"].items():
        if "baseline" in entry:
            columns.append((f"{name}, before", entry["baseline"]))
        columns.append((f"{name}, now" if "baseline" in entry else name, {"commit": study["commit"], **entry}))
    out = ["| | " + " | ".join(c for c, _ in columns) + " |", "|---|" + "---|" * len(columns)]
    out += [f"| {label} | " + " | ".join(f(t) for _, t in columns) + " |" for label, f in STUDY_ROWS]
    same = [
        f"{name}: {'identical' if e['identical_to_baseline'] else 'different'} to the baseline's"
        + (
            f" ({e['agreeing_but_not_byte_identical']['files']} files by their numbers, not their bytes: "
            "`jobtimes.AGREEMENT`)"
            if e.get("agreeing_but_not_byte_identical", {}).get("files")
            else ""
        )
        for name, e in study["studies"].items()
        if "identical_to_baseline" in e
    ]
    legacy = any(t["train"]["first_chunk_s"] for _, t in columns)
    notes = [f"{study['cores']} cores"]
    if legacy:
        notes.append(
            "compilations before: each run's first chunk of epochs, compilation included (its log's only line)"
        )
    if same:
        notes.append(f"results (checkpoints, histories, subsets, measures, tables) {'; '.join(same)}")
    return "\n".join(out) + "\n\n" + "; ".join(notes) + ".\n"


if __name__ == "__main__":
    bench = ROOT / "results" / "benchmarks"
    print(tables(json.loads((bench / "speed.json").read_text())), end="")
    if (bench / "study.json").exists():
        print("\n--- study table ---\n")
        print(study_table(json.loads((bench / "study.json").read_text())), end="")
