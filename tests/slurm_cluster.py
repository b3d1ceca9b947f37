"""A real single-node SLURM cluster on this machine, for the cluster tests.

    python tests/slurm_cluster.py          # start, print the SLURM_CONF to export, wait for Ctrl-C

Installs Debian's ``slurm-wlm`` and ``munge`` with apt when they are missing (root
only), writes slurm.conf (state and logs in a temporary directory; the file itself at
/etc/slurm/slurm.conf, any existing one restored afterwards), starts munged (unless one is
running), slurmctld and slurmd, waits until the node is idle, and on exit stops
every daemon it started, by the pids in their pid files. ``why_unavailable()`` says
why a cluster cannot be started here (no root, no apt), so tests can skip with it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

DEFAULT_CONF = Path("/etc/slurm/slurm.conf")
SLURM_BINARIES = ("slurmctld", "slurmd", "sbatch", "squeue", "sinfo", "scontrol")


def _have_binaries() -> bool:
    return all(shutil.which(b) or Path(f"/usr/sbin/{b}").exists() for b in SLURM_BINARIES) and (
        shutil.which("munged") or Path("/usr/sbin/munged").exists()
    )


def why_unavailable() -> str | None:
    """None if a cluster can be started here; otherwise the reason, for a skip message."""
    if os.geteuid() != 0:
        return "starting slurmctld/slurmd/munged needs root, and this user is not root"
    if not _have_binaries() and not shutil.which("apt-get"):
        return "slurm-wlm and munge are not installed and apt-get is not available to install them"
    return None


def install_if_missing(log=print) -> None:
    if _have_binaries():
        return
    log(
        "the SLURM test needs Debian's slurm-wlm and munge, which are missing: installing them now, system-wide, "
        "with `apt-get update && apt-get install -y slurm-wlm munge` (run `make test-fast` to leave the cluster out)"
    )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", "slurm-wlm", "munge"], check=True, env=env)


def _sbin(name: str) -> str:
    return shutil.which(name) or f"/usr/sbin/{name}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _stop(pid_file: Path, timeout: float = 15.0) -> None:
    pid = _read_pid(pid_file)
    if pid is None or not _pid_alive(pid):
        return
    os.kill(pid, signal.SIGTERM)
    end = time.time() + timeout
    while time.time() < end and _pid_alive(pid):
        time.sleep(0.2)
    if _pid_alive(pid):
        os.kill(pid, signal.SIGKILL)


def _munge_running() -> bool:
    return subprocess.run(["pgrep", "-x", "munged"], capture_output=True).returncode == 0


def slurm_conf(state: Path, cpus: int, memory_mb: int) -> str:
    return "\n".join(
        [
            "ClusterName=local",
            "SlurmctldHost=localhost",
            "SlurmUser=root",
            "SlurmdUser=root",
            "AuthType=auth/munge",
            f"StateSaveLocation={state / 'ctld'}",
            f"SlurmdSpoolDir={state / 'spool'}",
            f"SlurmctldPidFile={state / 'slurmctld.pid'}",
            f"SlurmdPidFile={state / 'slurmd.pid'}",
            f"SlurmctldLogFile={state / 'slurmctld.log'}",
            f"SlurmdLogFile={state / 'slurmd.log'}",
            "ProctrackType=proctrack/linuxproc",
            "TaskPlugin=task/none",
            "JobAcctGatherType=jobacct_gather/none",
            "AccountingStorageType=accounting_storage/none",
            "JobCompType=jobcomp/none",
            "MpiDefault=none",
            "SchedulerType=sched/backfill",
            "SelectType=select/cons_tres",
            "SelectTypeParameters=CR_Core_Memory",
            "ReturnToService=2",
            "MinJobAge=3600",  # keep finished jobs visible to scontrol for the test's checks
            f"NodeName=localhost CPUs={cpus} RealMemory={memory_mb} State=UNKNOWN",
            "PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP",
            "",
        ]
    )


def _free_memory_mb() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) // 1024
    return 4096


@contextlib.contextmanager
def slurm_cluster(log=print, ready_timeout: float = 60.0):
    """Yield an environment dict (with SLURM_CONF) for a running one-node cluster."""
    reason = why_unavailable()
    if reason:
        raise RuntimeError(reason)
    install_if_missing(log)
    state = Path(tempfile.mkdtemp(prefix="slurm-"))
    (state / "ctld").mkdir()
    (state / "spool").mkdir()
    # The config goes to SLURM's default path: snakemake's jobstep executor strips
    # SLURM_* variables (SLURM_CONF among them) before its nested srun, so srun inside
    # a job only finds the default file. An existing one is restored afterwards.
    conf = DEFAULT_CONF
    backup = state / "slurm.conf.orig"
    had_conf = conf.exists()
    conf.parent.mkdir(parents=True, exist_ok=True)
    if had_conf:
        shutil.copy2(conf, backup)
    cpus = os.cpu_count() or 1
    log(
        f"writing {conf} for a one-node cluster"
        + (" (the existing file is restored afterwards)" if had_conf else " (removed afterwards)")
    )
    conf.write_text(slurm_conf(state, cpus, max(1000, int(_free_memory_mb() * 0.8))))
    env = {**os.environ, "SLURM_CONF": str(conf)}
    started = []
    munge_pid = Path("/run/munge/munged.pid")
    try:
        if not _munge_running():
            Path("/run/munge").mkdir(parents=True, exist_ok=True)
            shutil.chown("/run/munge", "munge", "munge")
            subprocess.run(["runuser", "-u", "munge", "--", _sbin("munged")], check=True)
            started.append(munge_pid)
        subprocess.run([_sbin("slurmctld")], check=True, env=env)
        started.append(state / "slurmctld.pid")
        subprocess.run([_sbin("slurmd")], check=True, env=env)
        started.append(state / "slurmd.pid")
        end = time.time() + ready_timeout
        node_state = ""
        while time.time() < end:
            out = subprocess.run(["sinfo", "-h", "-o", "%t"], capture_output=True, text=True, env=env)
            node_state = out.stdout.strip()
            if node_state == "idle":
                break
            time.sleep(0.5)
        else:
            logs = "".join(
                (state / f).read_text()[-2000:] for f in ("slurmctld.log", "slurmd.log") if (state / f).exists()
            )
            raise RuntimeError(f"SLURM node not idle after {ready_timeout}s (state {node_state!r}):\n{logs}")
        log(f"SLURM cluster up: SLURM_CONF={conf}")
        yield env
    finally:
        for pid_file in reversed(started):
            _stop(pid_file)
        if had_conf:
            shutil.copy2(backup, conf)
        else:
            conf.unlink(missing_ok=True)
        shutil.rmtree(state, ignore_errors=True)


if __name__ == "__main__":
    with slurm_cluster() as env:
        print(f"export SLURM_CONF={env['SLURM_CONF']}")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
