"""Running a lesson from the command line: queue what is missing, train it here, wait for what others train."""

from __future__ import annotations

import threading
from collections.abc import Callable

from efficiency.config import RunConfig
from efficiency.errors import EfficiencyError
from efficiency.lessons.plan import Plan, queue_missing
from efficiency.store import ACTIVE, RunRecord, RunStore

POLL_S = 2.0


def run_plan(
    plan: Plan,
    store: RunStore,
    stop: threading.Event | None = None,
    say: Callable[[str], None] = lambda _msg: None,
) -> Plan:
    """Queue the missing runs as one request, then see every run of the plan finish, in the lesson's order.

    A queued run is trained in this process (whoever claims it first trains it: an app's scheduler
    may); a run that another process trains is waited for.
    """
    from efficiency.runs.runner import run_experiment

    stop = stop or threading.Event()
    reused = [item for item in plan.items if item.status != "missing"]
    request = queue_missing(plan, store)
    if reused:
        say(f"reusing {len(reused)} stored run(s): {[item.record_id for item in reused]}")
    if request:
        say(f"queued {len(plan.items) - len(reused)} run(s) as request {request}")
    for item in plan.items:
        if stop.is_set() or item.record_id is None:
            break
        record = store.get(item.record_id)
        if record is not None and record.status == "queued":
            say(f"{item.run}, seed {item.seed}: run {record.id}")
            try:
                run_experiment(RunConfig.from_dict(record.config), store=store, run_id=record.id, on_status=say,
                               stop=stop)  # fmt: skip
            except EfficiencyError as exc:  # stored as failed; the lesson's other runs still run
                say(f"run {record.id} failed: {exc}")
        record = _wait(store, item.record_id, stop, say)
        item.status = record.status if record is not None else "missing"
    if stop.is_set():
        _cancel_own(plan, store, request)
    return plan


def _cancel_own(plan: Plan, store: RunStore, request: str | None) -> None:
    """After a stop, cancel the runs this request queued that never started (runs joined from others stay)."""
    for item in plan.items:
        record = store.get(item.record_id) if item.record_id is not None else None
        if record is not None and record.status == "queued" and record.request == request:
            store.request_stop(record.id)


def _wait(store: RunStore, run_id: int, stop: threading.Event, say: Callable[[str], None]) -> RunRecord | None:
    """The run once it has ended (trained by another process, or by this one just now)."""
    told = False
    while True:
        record = store.get(run_id)
        if record is None or record.status not in ACTIVE or stop.is_set():
            return record
        if not told:
            say(f"waiting for run {run_id} ({record.status} in another process)")
            told = True
        stop.wait(POLL_S)
