"""Send a rule's stdout and stderr (Python and C++ alike) to its log file."""
from __future__ import annotations

import os
import sys
from pathlib import Path


def redirect_output(log_path) -> None:
    """Point file descriptors 1 and 2 at ``log_path``, so TensorFlow's own messages land there too."""
    path = Path(log_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    sys.stdout = os.fdopen(1, "w", buffering=1, closefd=False)
    sys.stderr = os.fdopen(2, "w", buffering=1, closefd=False)


def log(msg: str) -> None:
    print(msg, flush=True)
