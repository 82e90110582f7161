"""The fair queue: round-robin between owners, a quota per student, and each run's position with its reason."""

from __future__ import annotations

import pytest

from efficiency.errors import EfficiencyError
from efficiency.fair_queue import queue_status
from efficiency.owners import Actor, new_token
from efficiency.runs.scheduler import Scheduler
from efficiency.store import RunStore
from tests.runs.test_scheduler import FakeExecutor

ANA, BUDI, CITRA = (Actor.student(new_token(), name) for name in ("Ana", "Budi", "Citra"))


def queue(store: RunStore, owner: Actor | None, request: str | None = None, quota: int | None = None) -> int:
    config = {"name": "r", "model": {"name": "tiny"}, "data": {"dataset": "d"}}
    return store.create_run(config, device="cpu", owner=owner, request=request, quota=quota)


def order(store: RunStore) -> list[int]:
    queued = [r for r in store.active() if r.status == "queued"]
    return sorted((r.id for r in queued), key=store.queue_position)


def test_five_runs_of_one_student_do_not_hold_back_the_next(store):
    ana = [queue(store, ANA) for _ in range(5)]
    budi = queue(store, BUDI)
    citra = [queue(store, CITRA) for _ in range(2)]
    assert order(store) == [ana[0], budi, citra[0], ana[1], citra[1], ana[2], ana[3], ana[4]]


def test_a_student_with_a_run_on_the_device_waits_for_the_others_turn(store):
    first, second = queue(store, ANA), queue(store, ANA)
    store.claim(first, "cpu")
    budi = queue(store, BUDI)
    assert order(store) == [budi, second]
    status = queue_status(store, second)
    assert (status.position, status.ahead, status.ahead_own, status.running) == (2, [budi], 0, [first])
    assert "1 run(s) go first (1 of other students, whose turn comes first)" in status.reason
    assert f"Running now: run {first} (Ana)." in status.reason
    again = queue(store, BUDI)  # Budi's second goes before Ana's second: Ana has a run on the device
    assert order(store) == [budi, again, second]
    assert "Number 2 on cpu: 1 run(s) go first (1 of yours, queued earlier)" in queue_status(store, again).reason


def test_the_status_of_runs_that_do_not_wait(store):
    run_id = queue(store, ANA)
    assert "Next on cpu" in queue_status(store, run_id).reason
    store.claim(run_id, "cpu")
    assert queue_status(store, run_id).position is None and queue_status(store, run_id).status == "running"
    assert queue_status(store, 999) is None


def test_a_personal_lab_keeps_first_come_first_served(store):
    runs = [queue(store, None) for _ in range(3)]
    assert order(store) == runs
    assert "2 run(s) queued earlier go first" in queue_status(store, runs[2]).reason


def test_the_scheduler_starts_runs_in_the_fair_order(store):
    executor = FakeExecutor()
    try:
        ana = [queue(store, ANA) for _ in range(3)]
        budi = queue(store, BUDI)
        scheduler = Scheduler(store, executor)
        for expected in (ana[0], budi, ana[1]):
            assert scheduler.tick() == [expected]
            store.claim(expected, "cpu", pid=executor.processes[-1].pid)
            store.finish(expected, "finished")
    finally:
        executor.close()


def test_a_quota_refuses_one_request_too_many_and_a_lesson_counts_once(store):
    queue(store, ANA, quota=2)
    for _ in range(4):
        queue(store, ANA, request="lesson-1", quota=2)  # one request: counts once however many runs it has
    with pytest.raises(EfficiencyError, match=r"2 request\(s\) waiting .* \(2; a lesson's runs count as one\)"):
        queue(store, ANA, quota=2)
    queue(store, BUDI, quota=2)  # another student's quota is their own
    queue(store, None, quota=2)  # the command line's runs have no owner and no quota
    first = order(store)[0]
    store.request_stop(first, actor=ANA)
    queue(store, ANA, quota=2)  # a cancelled run frees its place


# --- the teacher's order ------------------------------------------------------------------------------------------
TEACHER = Actor.class_teacher()


def test_the_teacher_reorders_the_queue_and_the_scheduler_follows(store):
    ana = [queue(store, ANA) for _ in range(3)]
    budi = queue(store, BUDI)
    assert order(store) == [ana[0], budi, ana[1], ana[2]]
    assert store.move_in_queue(ana[2], "front", actor=TEACHER) == [ana[2], ana[0], budi, ana[1]]
    assert store.move_in_queue(budi, "up", actor=TEACHER) == [ana[2], budi, ana[0], ana[1]]
    assert store.move_in_queue(ana[2], "down", actor=TEACHER) == [budi, ana[2], ana[0], ana[1]]
    assert store.move_in_queue(ana[1], "down", actor=TEACHER)[-1] == ana[1], "the last stays last"
    citra = queue(store, CITRA)  # queued after the teacher's move: behind the runs the teacher placed
    assert order(store) == [budi, ana[2], ana[0], ana[1], citra]
    assert "teacher" in queue_status(store, ana[0]).reason
    executor = FakeExecutor()
    try:
        scheduler = Scheduler(store, executor)
        for expected in (budi, ana[2]):
            assert scheduler.tick() == [expected]
            store.claim(expected, "cpu", pid=executor.processes[-1].pid)
            store.finish(expected, "finished")
    finally:
        executor.close()


def test_a_student_cannot_reorder_the_queue_nor_anyone_move_a_run_that_is_not_waiting(store):
    first, second = queue(store, ANA), queue(store, BUDI)
    with pytest.raises(EfficiencyError, match="Only the teacher can reorder the queue"):
        store.move_in_queue(second, "front", actor=BUDI)
    assert order(store) == [first, second] and store.get(second).queue_order is None
    store.claim(first, "cpu")
    with pytest.raises(EfficiencyError, match="no longer queued"):
        store.move_in_queue(first, "down", actor=TEACHER)
    assert store.move_in_queue(second, "front") == [second], "the personal lab and the command line may"
