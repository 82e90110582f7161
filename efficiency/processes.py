"""Background processes: the one launcher and the one liveness check (a pid plus its start time).

A pid alone is not an identity: the operating system reuses pids, so a run whose worker died could
look alive through another program that got its pid. A process is "the same" only when its start
time matches the one recorded when it started.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import psutil

from efficiency import paths

# psutil adds the kernel's boot time (whole seconds, recomputed from the clock at each read) to a process's
# start: two reads of one process may differ by a second. A recycled pid reusing a start within 2 s is not a risk.
SAME_START_TOLERANCE_S = 2.0


def started_at(pid: int) -> float:
    """When process `pid` started (seconds since the epoch), to record beside the pid."""
    return psutil.Process(pid).create_time()


def alive(pid: int | None, since: float | None = None) -> bool:
    """Process `pid` runs (not a zombie) and, when `since` is given, is the one that started then.

    Another user's live process counts as alive: its run is never reaped nor touched from here.
    """
    if pid is None:
        return False
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return False
        return since is None or abs(process.create_time() - since) < SAME_START_TOLERANCE_S
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True


def launch_module(module: str, args: list[str], log: Path, env: dict[str, str] | None = None) -> int:
    """`python -m MODULE ARGS` in its own session, output appended to `log`; returns its pid.

    Secrets (a store URL with its password) go in `env`, never in `args`: any user can read a command line.
    """
    with open(log, "ab") as handle:
        process = subprocess.Popen(
            [sys.executable, "-m", module, *args],
            stdout=handle,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # a Ctrl-C in the app's terminal must not kill a run mid-step
            cwd=str(paths.REPO_ROOT),
            # The app's server and a browser share the cores with the worker. OpenMP threads that spin
            # while they wait are then starved: a tiny run took 25 s instead of 6 s with one core busy,
            # and 9 s with passive waiting. Users may still override it.
            env={"OMP_WAIT_POLICY": "PASSIVE", **os.environ, **(env or {}), "PYTHONUNBUFFERED": "1"},
        )
    return process.pid


def kill(pid: int) -> bool:
    """The fallback when a stop request was not honoured in time; False when the process is not ours to end."""
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return True  # it ended on its own
    except PermissionError:
        return False
    return True
