"""Check a config file before Snakemake reads it: `python check_config_file.py FILE`.

Snakemake's own message for a broken --configfile names neither the file nor the line;
`make run/dryrun/report CONFIG=...` call this first. Exit status 1 with the reason.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from genstudy.config import ConfigError, read_config_file

if __name__ == "__main__":
    try:
        for name in sys.argv[1:]:
            read_config_file(name)
    except ConfigError as exc:
        sys.exit(f"Invalid configuration: {exc}")
