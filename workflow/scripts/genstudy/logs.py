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


class Progress:
    """'done of total, elapsed, ETA' lines for a job's log, so a long run can be followed with tail -f."""

    def __init__(self, total: int, log=log, clock=None):
        import time

        self.total, self.done, self.log = int(total), 0, log
        self.clock = clock or time.perf_counter
        self.started = self.clock()

    def step(self, what: str = "", amount: int = 1) -> None:
        self.done += amount
        self.log(f"{what}: {self.line()}" if what else self.line())

    def line(self) -> str:
        elapsed = self.clock() - self.started
        eta = elapsed / self.done * (self.total - self.done) if self.done else float("nan")
        return f"{self.done} of {self.total} done, elapsed {format_duration(elapsed)}, ETA {format_duration(eta)}"


def format_duration(seconds: float) -> str:
    if seconds != seconds:  # NaN: nothing done yet
        return "unknown"
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}h{m:02d}m{s:02d}s" if h else f"{m}m{s:02d}s" if m else f"{s}s"
