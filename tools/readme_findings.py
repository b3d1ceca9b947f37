"""Refresh what the README shows of the default study from a real run of it: docs/findings.md
(a copy of results/default/findings.md), the figures in docs/, and the README's findings block,
a summary built from docs/findings.md alone (tests/test_tables_agree.py checks the block)."""

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
START, END = "<!-- findings:start -->", "<!-- findings:end -->"
FIGURES = ("training_loss0_label_modes.png", "ranking.png", "robust_sign_error.png")
SUMMARY_LINES = ("- Psi (adjusted):", "- tau (adjusted):", "- margin γ")


def summary(findings: str) -> str:
    """Per checkpoint, the lines of the findings that answer the study's question: Ψ's winner (or
    why there is none), how many measures beat every baseline on τ, the best worst-case sign
    error, and the margin's spread. Quoted verbatim, so they can never disagree with the file."""
    out, checkpoint, first_sign_error = [], None, False
    for line in findings.splitlines():
        if line.startswith("## At "):
            checkpoint, first_sign_error = line[len("## At ") :], True
            out.append(f"\n**{checkpoint}**\n")
        elif checkpoint and (line.startswith(SUMMARY_LINES) or line.startswith("  - tau (adjusted)")):
            out.append(line)
        elif checkpoint and first_sign_error and line.startswith("- `"):
            out.append(line.replace("- `", "- lowest worst-case sign error: `", 1))
            first_sign_error = False
        elif line.startswith("Generated from") or line.startswith("The margin varies"):
            out.append(("\n" if line.startswith("The margin") else "") + line)
    return "\n".join(out).strip() + "\n"


def readme_with(readme: str, block: str) -> str:
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{block}{END}{tail}"


if __name__ == "__main__":
    results = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "results" / "default")
    shutil.copyfile(results / "findings.md", ROOT / "docs" / "findings.md")
    for name in FIGURES:
        shutil.copyfile(results / "figures" / name, ROOT / "docs" / name)
    readme = ROOT / "README.md"
    readme.write_text(readme_with(readme.read_text(), summary((ROOT / "docs" / "findings.md").read_text())))
