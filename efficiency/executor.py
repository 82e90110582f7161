"""Where background runs execute. The embedded default: one spawned worker process per run.

A fresh process per run keeps training out of the app's process (the page stays responsive),
gives CUDA a clean context and returns all its memory when the run ends. The worker waits for
its device's slot, so runs on one device never overlap. A later backend (Ray Jobs, say) keeps
this interface: start, alive, kill.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import psutil

from efficiency import paths


def log_path(run_id: int) -> Path:
    folder = paths.app_data_dir() / "logs"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"run-{run_id}.log"


class LocalProcessExecutor:
    """`python -m efficiency.worker RUN_ID` in its own session, its output in the app-data logs folder."""

    def __init__(self, store_url: str) -> None:
        self.store_url = store_url

    def start(self, run_id: int) -> int:
        with open(log_path(run_id), "ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "efficiency.worker", str(run_id), "--store", self.store_url],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # a Ctrl-C in the app's terminal must not kill a run mid-step
                cwd=str(paths.REPO_ROOT),
                # The app's server and a browser share the cores with the worker. OpenMP threads that spin
                # while they wait are then starved: a tiny run took 25 s instead of 6 s with one core busy,
                # and 9 s with passive waiting. Users may still override it.
                env={"OMP_WAIT_POLICY": "PASSIVE", **os.environ, "PYTHONUNBUFFERED": "1"},
            )
        return process.pid

    @staticmethod
    def alive(pid: int) -> bool:
        try:
            return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return False

    @staticmethod
    def kill(pid: int) -> None:
        """The fallback when a stop request was not honoured in time."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
