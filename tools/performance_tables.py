"""Print docs/performance.md's tables from results/benchmarks/speed.json, so the page quotes the
file exactly (paste the output when the file changes; a test compares the two)."""

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
METRICS = (
    "keras_fit_ms_per_epoch",
    "workflow_ms_per_epoch",
    "floor_ms_per_epoch",
    "floor_pruned_ms_per_epoch",
    "grad_ms",
    "hvp_ms",
    "measures_s_per_checkpoint",
    "measures_curvature_s",
    "measures_flatness_s",
    "speedup_vs_keras_fit",
    "overhead_vs_floor",
    "overhead_vs_pruned_floor",
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


if __name__ == "__main__":
    print(tables(json.loads((ROOT / "results" / "benchmarks" / "speed.json").read_text())), end="")
