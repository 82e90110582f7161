"""Where background runs execute. The embedded default: one spawned worker process per run.

A fresh process per run keeps training out of the app's process (the page stays responsive),
gives CUDA a clean context and returns all its memory when the run ends. The worker waits for
its device's slot, so runs on one device never overlap. A later backend (Ray Jobs, say) keeps
this interface: start, alive, kill.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import psutil

from efficiency import paths, processes
from efficiency.store_url import ENV_VAR


def log_path(run_id: int) -> Path:
    folder = paths.app_data_dir() / "logs"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"run-{run_id}.log"


class LocalProcessExecutor:
    """`python -m efficiency.runs.worker RUN_ID` in its own session, its output in the app-data logs folder.

    The store's URL reaches the worker in its environment ($EFFLAB_STORE), not on its command line.
    """

    def __init__(self, store_url: str) -> None:
        self.store_url = store_url
        self._started_at: dict[int, float] = {}  # pid -> its start time: a reused pid is not our worker

    def start(self, run_id: int) -> int:
        pid = processes.launch_module(
            "efficiency.runs.worker", [str(run_id)], log_path(run_id), env={ENV_VAR: self.store_url}
        )
        # A worker that ended at once (a broken install) has no start time: alive() then goes by the pid alone.
        with contextlib.suppress(psutil.Error):
            self._started_at[pid] = processes.started_at(pid)
        return pid

    def alive(self, pid: int) -> bool:
        return processes.alive(pid, self._started_at.get(pid))

    @staticmethod
    def kill(pid: int) -> bool:
        return processes.kill(pid)
