"""Where background runs execute. The embedded default: one spawned worker process per run.

A fresh process per run keeps training out of the app's process (the page stays responsive),
gives CUDA a clean context and returns all its memory when the run ends. The worker waits for
its device's slot, so runs on one device never overlap. A cluster's executor
(efficiency.runs.ray_executor) keeps the same interface: start, alive, kill, room, handle_of, watch.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import psutil

from efficiency import paths, processes
from efficiency.runs import slots
from efficiency.store import RunRecord, RunStore
from efficiency.store_url import ENV_VAR


class DeviceRoom:
    """This host's devices: one run each, free when no run here holds it and its slot's lock is free."""

    def __init__(self, busy: set[str]) -> None:
        self.busy = busy

    def take(self, record: RunRecord) -> bool:
        if record.device in self.busy:
            return False
        self.busy.add(record.device)  # taken for this tick whatever follows: one start per device and tick
        return slots.is_free(record.device)  # held, or probed by another scheduler at this moment


def device_room(here: str, running: list[RunRecord], queued: list[RunRecord], launching: dict[int, str]) -> DeviceRoom:
    """The devices of this host ("cpu" on another machine is another device) that no run holds now."""
    busy = {r.device for r in running if r.host == here} | set(launching.values())
    # Waiters of this host that another process launched (the CLI, another server): their device is taken.
    busy |= {r.device for r in queued if r.pid is not None and r.host == here and r.id not in launching}
    return DeviceRoom(busy)


def local_handle_of(record: RunRecord, here: str) -> int | None:
    """A run's worker process when it runs on this host and is still the process that claimed the run."""
    if record.host != here or not processes.alive(record.pid, record.pid_started_at):
        return None
    return record.pid


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

    @staticmethod
    def room(here: str, running: list[RunRecord], queued: list[RunRecord], launching: dict[int, str]) -> DeviceRoom:
        return device_room(here, running, queued, launching)

    @staticmethod
    def handle_of(record: RunRecord, here: str) -> int | None:
        return local_handle_of(record, here)

    @staticmethod
    def watch(_store: RunStore, _active: list[RunRecord]) -> bool:
        return False  # a dead local worker is the store's to reap (pid and start time)
