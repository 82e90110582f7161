"""The scheduler: starts queued runs when their device is free, and enforces stops and time limits.

One per app server (the app holds it with st.cache_resource); it only reads and writes the run
store and asks the executor to start or kill worker processes, so a second server or the CLI
can share the same store safely: a run is claimed with a conditional update, and the device
lock (efficiency.runs.slots) keeps two runs off one device whoever started them.

Each tick, in order:
1. reap runs whose process died (the store's liveness rule), then let the executor end runs whose
   job it knows died (a cluster's job; local processes need nothing beyond the store's rule);
2. a run asked to stop that goes on training for `stop_grace_s` (or is still alive after
   `stop_hard_s`) is killed; its progress rows are kept and it is stored as stopped;
3. a run past its time limit is asked to stop (the engine then tests the best model so far);
4. the next queued run of each free slot is started, in the fair queue's order (efficiency.fair_queue:
   round-robin between owners, oldest first within an owner's runs). The executor says which slots are
   free: this host's devices for local processes, the cluster's free GPUs or CPUs for Ray.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from efficiency.fair_queue import fair_order
from efficiency.store import RunRecord, RunStore

log = logging.getLogger(__name__)

STOP_GRACE_S = (
    20.0  # a step of MiniLM on this CPU takes about a second: a run still stepping after this ignores the stop
)
STOP_HARD_S = 600.0  # testing, measuring and saving after a stop may take minutes on a slow machine, not this long
LAUNCH_GRACE_S = 60.0  # a started worker has this long to claim its run before its device counts as free


_STARTED: weakref.WeakSet[Scheduler] = weakref.WeakSet()


def close_all() -> None:
    """Stop every scheduler thread of this process (tests, and a server shutting down)."""
    for scheduler in list(_STARTED):
        scheduler.close()


Handle = int | str  # a launched worker: its pid on this host, or a cluster's job id


class Room(Protocol):
    def take(self, record: RunRecord) -> bool:
        """Whether a slot is free for this run now; a True answer holds the slot for the rest of the tick."""
        ...


class Executor(Protocol):
    """Where workers run: this host's processes (executor.py) or a Ray cluster's jobs (ray_executor.py)."""

    def start(self, run_id: int) -> Handle: ...
    def alive(self, handle: Handle) -> bool: ...
    def kill(self, handle: Handle) -> bool: ...

    def room(self, here: str, running: list[RunRecord], queued: list[RunRecord], launching: dict[int, str]) -> Room:
        """The free slots this tick; `launching`: run id -> device of launches not yet claimed by their worker."""
        ...

    def handle_of(self, record: RunRecord, here: str) -> Handle | None:
        """The running worker of `record` that this executor can end, or None."""
        ...

    def watch(self, store: RunStore, active: list[RunRecord]) -> bool:
        """What this executor checks each tick beyond the store's liveness rule; True when it ended a run."""
        ...


@dataclass(eq=False)  # identity semantics: held in a WeakSet, one per server
class Scheduler:
    store: RunStore
    executor: Executor
    poll_s: float = 1.0
    stop_grace_s: float = STOP_GRACE_S
    stop_hard_s: float = STOP_HARD_S
    # The teacher's limit for every run, read at each tick so a change applies at once (None: no limit).
    time_limit_s: Callable[[], float | None] = lambda: None
    _launched: dict[int, tuple[Handle, float]] = field(default_factory=dict)  # run id -> (worker, when)
    # run id -> (when a stop was first seen, the training step then)
    _stop_seen: dict[int, tuple[float, int]] = field(default_factory=dict)
    _thread: threading.Thread | None = None
    _halt: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # --- the loop --------------------------------------------------------------------------
    def start(self) -> Scheduler:
        if self._thread is None or not self._thread.is_alive():
            self._halt.clear()
            self._thread = threading.Thread(target=self._loop, name="efficiency-scheduler", daemon=True)
            self._thread.start()
            _STARTED.add(self)
        return self

    def close(self) -> None:
        self._halt.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._halt.is_set():
            try:
                self.tick()
            except Exception:  # a locked database or a vanished process must not end the loop
                log.exception("scheduler tick failed")
            self._halt.wait(self.poll_s)

    def wake(self) -> None:
        """Start what can start now (the page calls this after queueing, so nobody waits a poll)."""
        try:
            self.tick()
        except Exception:
            log.exception("scheduler tick failed")

    # --- one pass ----------------------------------------------------------------------------
    def tick(self) -> list[int]:
        """One pass over the active runs; returns the ids of the runs it started."""
        with self._lock:
            now = time.time()
            active = self.store.active()
            if self.executor.watch(self.store, active):  # it ended runs (a cluster's dead jobs): read again
                active = self.store.active()
            running = [r for r in active if r.status == "running"]
            for record in running:
                self._enforce_stop(record, now)
                self._enforce_time_limit(record, now)
            return self._start_queued([r for r in active if r.status == "queued"], running, now)

    def _enforce_stop(self, record: RunRecord, now: float) -> None:
        """Kill a run that goes on training after its stop request; one that is testing and saving may finish."""
        if not record.stop_requested:
            return
        progress = record.progress or {}
        step = int(progress.get("step", 0))
        first, step_then = self._stop_seen.setdefault(record.id, (now, step))
        waited = now - first
        still_training = progress.get("phase") in ("train", "teacher") and step > step_then + 2
        if not ((waited > self.stop_grace_s and still_training) or waited > self.stop_hard_s):
            return
        handle = self.executor.handle_of(record, self.store.host)
        if handle is None:  # another host's process, or already gone (the store's liveness rule ends its run)
            return
        log.warning("run %s ignored its stop request for %.0f s: ending its worker %s", record.id, waited, handle)
        if not self.executor.kill(handle):
            log.warning("run %s: its worker %s is not ours to end; its run is left as it is", record.id, handle)
            return
        # Conditional: if the run finished on its own just now, its own final status stands.
        self.store.finish_if_running(
            record.id,
            "stopped",
            error=f"Stopped: it went on for {waited:.0f} s after the stop request, so its process was ended. "
            "The progress recorded until then is kept; the final test was not run.",
        )
        self._stop_seen.pop(record.id, None)

    def _enforce_time_limit(self, record: RunRecord, now: float) -> None:
        limit = self.time_limit_s()
        if limit is None or record.started_at is None or record.stop_requested:
            return
        if now - record.started_at > limit:
            log.info("run %s passed the time limit of %.0f s: asking it to stop", record.id, limit)
            self.store.request_stop(record.id)

    def _start_queued(self, queued: list[RunRecord], running: list[RunRecord], now: float) -> list[int]:
        launching: dict[int, str] = {}  # run id -> device: started, still loading
        for run_id, (handle, when) in list(self._launched.items()):
            record = next((r for r in queued if r.id == run_id), None)
            if record is None:
                self._launched.pop(run_id)  # claimed, finished or cancelled
            elif self.executor.alive(handle) and now - when < LAUNCH_GRACE_S:
                launching[run_id] = record.device
                with contextlib.suppress(Exception):  # other hosts see it alive by this beat, not by its pid
                    self.store.beat_waiting(run_id)
            else:
                self._launched.pop(run_id)  # its worker died before claiming: the store reaps the run
        room = self.executor.room(self.store.host, running, queued, launching)
        started = []
        for record in fair_order(queued, running, self.store.last_starts()):
            if record.pid is not None or not room.take(record):
                continue  # a process (here or on another host) has it, or no slot is free for it
            if not self.store.reserve(record.id):
                continue  # another scheduler took it a moment ago: its slot stays taken this tick
            try:
                handle = self.executor.start(record.id)
            except Exception:  # no process, no interpreter: the run stays queued for the next tick
                log.exception("run %s: its worker could not be started", record.id)
                self.store.release(record.id)
                continue
            self._launched[record.id] = (handle, now)
            # A pid here names the waiter at once; a cluster's job names itself when its worker starts
            # (till then the reservation names this scheduler, which beats for it above).
            if isinstance(handle, int):
                with contextlib.suppress(Exception):  # the process may already have ended
                    self.store.mark_waiting(record.id, handle)
            started.append(record.id)
        return started
