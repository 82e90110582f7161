"""Serving the queue: the one scheduler an app server or `python -m efficiency queue serve` runs.

Both build it here, so the queue server is the app's scheduler thread without the app: the same
class, executor and time limit. Several of them may share one store (a class database): each run is
reserved by one scheduler only (`RunStore.reserve`) and claimed by one worker only (`RunStore.claim`).
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable

from efficiency import lab_settings
from efficiency.errors import EfficiencyError
from efficiency.runs.executor import LocalProcessExecutor
from efficiency.runs.scheduler import Scheduler
from efficiency.store import RunStore
from efficiency.store_url import masked

EXECUTOR_ENV = "EFFLAB_EXECUTOR"


def backstop_s(store: RunStore | None = None) -> float | None:
    """The scheduler's hard limit: the teacher's limit (of `store`'s lab), plus time to load, test and measure."""
    limit = lab_settings.load(store).time_limit_s
    return None if limit is None else limit * 1.25 + 120


def local_scheduler(store: RunStore) -> Scheduler:
    """The scheduler of this machine: one worker process per run, the teacher's time limit (not started)."""
    return Scheduler(store, LocalProcessExecutor(store.url), time_limit_s=functools.partial(backstop_s, store))


def ray_scheduler(store: RunStore, address: str | None = None) -> Scheduler:
    """The same scheduler with runs as jobs of the Ray cluster at `address` (else $RAY_ADDRESS); not started."""
    from efficiency.runs.ray_executor import RayJobExecutor

    return Scheduler(
        store, RayJobExecutor.connect(store.url, address), time_limit_s=functools.partial(backstop_s, store)
    )


def configured_scheduler(store: RunStore) -> Scheduler:
    """The app's scheduler: this machine's processes, or Ray's jobs when $EFFLAB_EXECUTOR=ray (at $RAY_ADDRESS).

    On a class server that hands its runs to Ray, the app's own scheduler must not start runs on the
    server's devices as well: it is then the Ray scheduler, and `queue serve` is not needed.
    """
    choice = os.environ.get(EXECUTOR_ENV, "local")
    if choice == "ray":
        return ray_scheduler(store)
    if choice != "local":
        raise EfficiencyError(f"${EXECUTOR_ENV} is {choice!r}: set it to local (the default) or ray.")
    return local_scheduler(store)


def serve(
    store: RunStore,
    halt: threading.Event,
    say: Callable[[str], None] = print,
    executor: str = "local",
    ray_address: str | None = None,
) -> None:
    """Start queued runs as devices free up (this machine's, or a Ray cluster's), until `halt` is set.

    Runs already started go on when it stops: each is its own process, and another server may watch them.
    """
    if executor == "ray":
        from efficiency.runs.ray_executor import address_of

        address = address_of(ray_address)
        scheduler = ray_scheduler(store, address).start()
        where = f"the Ray cluster at {address}"
        if store.is_sqlite:
            say("note: the store is a SQLite file, which only Ray workers on this machine can reach; "
                "give the class a PostgreSQL store (--store or $EFFLAB_STORE) to use the other machines")  # fmt: skip
    else:
        scheduler = local_scheduler(store).start()
        where = store.host
    say(f"serving the queue of {masked(store.url)} on {where}; Ctrl-C stops (started runs go on)")
    try:
        halt.wait()
    finally:
        scheduler.close()
    say("queue server stopped")
