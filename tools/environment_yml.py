"""Write environment.yml from requirements.lock: the whole environment for conda users,
pinned exactly as `make` pins it (`make lock` runs this; tests/test_deploy.py checks it)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def environment_yml(lock_text: str) -> str:
    pins = [line.strip() for line in lock_text.splitlines() if line.strip() and not line.startswith("#")]
    head = [
        "# The whole environment of the workflow, for conda users:",
        "#   conda env create -f environment.yml && conda activate generalization && snakemake --cores all",
        "# Generated from requirements.lock by tools/environment_yml.py (`make lock`): the same pins `make`",
        "# installs into .venv. For GPUs replace tensorflow-cpu by tensorflow[and-cuda] of the same version.",
        "name: generalization",
        "channels:",
        "  - conda-forge",
        "  - nodefaults",
        "dependencies:",
        "  - python=3.11",
        "  - pip",
        "  - pip:",
    ]
    # genstudy itself, editable from the checkout this file is in (its dependencies are the pins above)
    package = ["      - --editable ."]
    return "\n".join(head + [f"      - {p}" for p in pins] + package) + "\n"


if __name__ == "__main__":
    (ROOT / "environment.yml").write_text(environment_yml((ROOT / "requirements.lock").read_text()))
