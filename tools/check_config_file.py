"""Check a config file before Snakemake reads it: `python tools/check_config_file.py [--study] [FILE]`.

Snakemake's own message for a broken --configfile names neither the file nor the line, and
reads a key given twice as its last value; `make run/dryrun/report/findings/clean` call this
first. FILE defaults to the environment's CONFIG (the Makefile exports it, so a path with
spaces or quotes arrives whole). With --study it prints the study's results folder name.
Exit status 1 with one line that says why.
"""

import os
import sys

from genstudy.config import ConfigError, read_config_file
from genstudy.study import check_study_name, study_name


def study_of(path: str) -> str:
    """The results folder name of the study that ``path`` configures, checked."""
    doc = read_config_file(path)
    name = study_name(str(doc.get("study", "default")), [doc], [path])
    check_study_name(name)
    return name


def main(argv: list[str]) -> str | None:
    want_study = "--study" in argv
    files = [a for a in argv if a != "--study"] or [os.environ.get("CONFIG", "config.yaml")]
    if not files[0]:
        return "Invalid configuration: CONFIG is empty: name a config file, e.g. make run CONFIG=config.yaml"
    try:
        for name in files:
            study = study_of(name)
    except (ConfigError, ValueError) as exc:
        return f"Invalid configuration: {exc}"
    if want_study:
        print(study)
    return None


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
