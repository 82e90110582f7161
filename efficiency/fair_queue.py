"""The queue's order: round-robin between owners, so one student's five runs do not hold back the next student.

Each queued run gets a turn on its device: how many runs of its owner are ahead of it there (queued
earlier, or running now). Runs start by turn; among equal turns the owner whose last run started
longest ago goes first (so the turns go round), then the older run. A student's first run thus goes
before anyone's second; in a personal lab (no owners) every run has the one owner and the order is plain
first come, first served. The scheduler starts runs in this order and `queue_status` explains it.

The teacher may reorder a device's queue (`RunStore.move_in_queue`): that pins every run then queued on
the device in the order the teacher left it (`queue_order`). Pinned runs start first, in that order; runs
queued later wait behind them in the fair order, their turns counting the pinned runs of their owner.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from efficiency.store import RunStore


class QueuedRun(Protocol):
    id: int
    status: str
    device: str
    owner: str | None
    owner_name: str | None
    queue_order: float | None  # the teacher's order (lowest first); None: the fair order


def fair_order(
    queued: Sequence[QueuedRun],
    running: Sequence[QueuedRun],
    last_started: Mapping[tuple[str, str | None], float] | None = None,
) -> list[QueuedRun]:
    """The queued runs in the order they start (each device's own order; devices interleave by turn).

    `last_started`: when each (device, owner)'s latest run started (`RunStore.last_starts`).
    """
    last_started = last_started or {}
    pinned = sorted((r for r in queued if r.queue_order is not None), key=lambda r: (r.queue_order, r.id))
    turns: Counter[tuple[str, str | None]] = Counter((r.device, r.owner) for r in [*running, *pinned])
    ranked = []
    for record in sorted((r for r in queued if r.queue_order is None), key=lambda r: r.id):
        key = (record.device, record.owner)
        ranked.append(((turns[key], last_started.get(key, 0.0), record.id), record))
        turns[key] += 1
    return [*pinned, *(record for _rank, record in sorted(ranked, key=lambda t: t[0]))]


def in_start_order(
    active: Sequence[QueuedRun], last_started: Mapping[tuple[str, str | None], float] | None = None
) -> list[QueuedRun]:
    """Active runs as a queue panel lists them: the running ones, then each device's queued runs in start order."""
    running = [r for r in active if r.status == "running"]
    queued = [r for r in active if r.status == "queued"]
    waiting = [
        record
        for device in sorted({r.device for r in queued})
        for record in fair_order([r for r in queued if r.device == device], running, last_started)
    ]
    return [*running, *waiting]


@dataclass
class QueueStatus:
    """Where a run stands in the queue and why it waits, in words a student reads on the page."""

    run_id: int
    status: str
    device: str = ""
    position: int | None = None  # 1: the next to start on its device; None when not queued
    ahead: list[int] = field(default_factory=list)  # the queued runs that start before it, in order
    ahead_own: int = 0  # how many of those are the same owner's
    running: list[int] = field(default_factory=list)  # the runs on its device now
    reason: str = ""


def queue_status(store: RunStore, run_id: int) -> QueueStatus | None:
    """A run's position on its device and the reason it waits; None when there is no such run."""
    active = store.active()
    record = next((r for r in active if r.id == run_id), None)
    if record is None:
        found = store.get(run_id)
        return None if found is None else QueueStatus(run_id, found.status, found.device)
    if record.status != "queued":
        return QueueStatus(run_id, record.status, record.device)
    on_device = [r for r in active if r.device == record.device]
    running = [r for r in on_device if r.status == "running"]
    order = fair_order([r for r in on_device if r.status == "queued"], running, store.last_starts())
    ahead = [r for r in order[: [r.id for r in order].index(run_id)]]
    own = sum(r.owner == record.owner for r in ahead)
    status = QueueStatus(run_id, "queued", record.device, len(ahead) + 1, [r.id for r in ahead], own,
                         [r.id for r in running])  # fmt: skip
    status.reason = _reason(record, ahead, own, running)
    if any(r.queue_order is not None for r in [record, *ahead]):
        status.reason += " The teacher has set the order of this queue."
    return status


def _reason(record: QueuedRun, ahead: Sequence[QueuedRun], own: int, running: Sequence[QueuedRun]) -> str:
    busy = ", ".join(f"run {r.id}" + (f" ({r.owner_name})" if r.owner_name else "") for r in running)
    if not ahead:
        if running:
            return f"Next on {record.device}: it starts when {busy} ends (one run per device, so timings stay true)."
        return f"Next on {record.device}: it starts as soon as the scheduler picks it up (within seconds)."
    now = f" Running now: {busy}." if running else ""
    if record.owner is None:  # a personal lab, or a run queued from the command line
        return f"Number {len(ahead) + 1} on {record.device}: {len(ahead)} run(s) queued earlier go first.{now}"
    others = len(ahead) - own
    parts = [f"{own} of yours, queued earlier"] if own else []
    parts += [f"{others} of other students, whose turn comes first"] if others else []
    return (
        f"Number {len(ahead) + 1} on {record.device}: {len(ahead)} run(s) go first ({'; '.join(parts)}). "
        f"The queue takes turns between students, one run each.{now}"
    )
