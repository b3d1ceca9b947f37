"""Refresh what the README shows from a real run of a study (by default the question preset,
the study sized to resolve): docs/<study>/findings.md (a copy of results/<study>/findings.md), its
figures in docs/<study>/, and the README's findings block, a summary built from that findings file
alone (tests/test_one_source.py checks the block).

    python tools/readme_findings.py [results/<study>]
"""

import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STUDY = "question"  # the study the README quotes
START, END = "<!-- findings:start -->", "<!-- findings:end -->"
FIGURES = ("training_loss0_label_modes.png", "ranking.png", "robust_sign_error.png")
SUMMARY_LINES = ("- Psi (adjusted):", "- tau (adjusted):", "- margin γ")
SIGN_ERROR_LINES = ("share the highest worst case", "no environment has an effective sample size")
REACHED = re.compile(r"^\d+ of \d+ runs reached ")
ROBUSTNESS = re.compile(r"^- \w+: (agree|disagree|no environment)")


def findings_file(study: str = STUDY) -> Path:
    return ROOT / "docs" / study / "findings.md"


def summary(findings: str) -> str:
    """Per checkpoint, the lines of the findings that answer the study's question: how many runs
    reached it, Ψ's and τ's winners (or why there are none), how the robust sign errors tie, and
    the margin's spread; then the comparison with the papers: the tally of published signs and
    the robustness verdicts. Quoted verbatim, so they can never disagree with the file."""
    out, checkpoint, compared = [], None, False
    for line in findings.splitlines():
        if line.startswith("## At "):
            checkpoint = line[len("## At ") :]
            out.append(f"\n**{checkpoint}**\n")
        elif line.startswith("## "):
            checkpoint, compared = None, line.startswith("## Compared with")
            if compared:
                out.append(f"\n**{line[3:]}**\n")
        elif checkpoint and (REACHED.match(line) or line.startswith(SUMMARY_LINES)):
            out.append(("- " if REACHED.match(line) else "") + line)
        elif checkpoint and any(marker in line for marker in SIGN_ERROR_LINES):
            out.append(line.replace("- ", "- robust sign error: ", 1))
        elif compared and line.startswith("- Published signs of "):
            out.append(line)
        elif compared and ROBUSTNESS.match(line):
            out.append(line.replace("- ", "- robust sign error vs Dziugaite et al., ", 1))
        elif line.startswith("Generated from") or line.startswith("The margin's spread"):
            out.append(("\n" if line.startswith("The margin") else "") + line)
    return "\n".join(out).strip() + "\n"


def readme_with(readme: str, block: str) -> str:
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{block}{END}{tail}"


if __name__ == "__main__":
    results = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "results" / STUDY)
    docs = ROOT / "docs" / results.name
    docs.mkdir(exist_ok=True)
    shutil.copyfile(results / "findings.md", docs / "findings.md")
    for name in FIGURES:
        shutil.copyfile(results / "figures" / name, docs / name)
    if results.name == STUDY:
        readme = ROOT / "README.md"
        readme.write_text(readme_with(readme.read_text(), summary((docs / "findings.md").read_text())))
