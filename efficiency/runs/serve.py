"""Serving the queue: the one scheduler an app server or `python -m efficiency queue serve` runs.

Both build it here, so the queue server is the app's scheduler thread without the app: the same
class, executor and time limit. Several of them may share one store (a class database): each run is
reserved by one scheduler only (`RunStore.reserve`) and claimed by one worker only (`RunStore.claim`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from efficiency import lab_settings
from efficiency.runs.executor import LocalProcessExecutor
from efficiency.runs.scheduler import Scheduler
from efficiency.store import RunStore
from efficiency.store_url import masked


def backstop_s() -> float | None:
    """The scheduler's hard limit: the teacher's limit, plus time to load, test and measure."""
    limit = lab_settings.load().time_limit_s
    return None if limit is None else limit * 1.25 + 120


def local_scheduler(store: RunStore) -> Scheduler:
    """The scheduler of this machine: one worker process per run, the teacher's time limit (not started)."""
    return Scheduler(store, LocalProcessExecutor(store.url), time_limit_s=backstop_s)


def serve(store: RunStore, halt: threading.Event, say: Callable[[str], None] = print) -> None:
    """Start queued runs as this machine's devices free up, until `halt` is set (SIGINT or SIGTERM).

    Runs already started go on when it stops: each is its own process, and another server may watch them.
    """
    scheduler = local_scheduler(store).start()
    say(f"serving the queue of {masked(store.url)} on {store.host}; Ctrl-C stops (started runs go on)")
    try:
        halt.wait()
    finally:
        scheduler.close()
    say("queue server stopped")
