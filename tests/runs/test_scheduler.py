"""The scheduler: one run per device in queue order, stops enforced, time limits, dead launches retried."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from efficiency.runs.executor import LocalProcessExecutor
from efficiency.runs.scheduler import Scheduler
from efficiency.runs.slots import device_slot
from efficiency.store import RunStore


class FakeExecutor:
    """Starts a real idle process per run (so pids are alive and killable) and records what it was asked."""

    def __init__(self) -> None:
        self.started: list[int] = []
        self.killed: list[int] = []
        self.processes: list[subprocess.Popen] = []

    def start(self, run_id: int) -> int:
        process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        self.processes.append(process)
        self.started.append(run_id)
        return process.pid

    def alive(self, pid: int) -> bool:
        return any(p.pid == pid and p.poll() is None for p in self.processes)

    def kill(self, pid: int) -> bool:
        self.killed.append(pid)
        for p in self.processes:
            if p.pid == pid:
                p.kill()
                p.wait()
        return True

    # Which devices are free, which worker a run has, nothing more to watch: as the local executor does.
    room = staticmethod(LocalProcessExecutor.room)
    handle_of = staticmethod(LocalProcessExecutor.handle_of)
    watch = staticmethod(LocalProcessExecutor.watch)

    def close(self) -> None:
        for p in self.processes:
            p.kill()
            p.wait()


@pytest.fixture
def executor():
    fake = FakeExecutor()
    yield fake
    fake.close()


def queue(store: RunStore, device: str = "cpu") -> int:
    return store.create_run({"name": "r", "model": {"name": "tiny"}, "data": {"dataset": "d"}}, device=device)


def test_starts_the_oldest_queued_run_per_device_and_no_more(store, executor):
    first, second, gpu = queue(store), queue(store), queue(store, "cuda:0")
    scheduler = Scheduler(store, executor)
    assert scheduler.tick() == [first, gpu]
    assert scheduler.tick() == []  # the first is still loading: its device stays taken
    assert store.queue_position(second) == 2  # the first, though started, is still queued until it claims
    store.claim(first, "cpu", pid=executor.processes[0].pid)
    assert scheduler.tick() == []  # running now: the device is busy
    store.finish(first, "finished")
    assert scheduler.tick() == [second]


def test_waits_while_another_process_holds_the_device(store, executor):
    run_id = queue(store)
    scheduler = Scheduler(store, executor)
    with device_slot("cpu", "a CLI run") as got:
        assert got
        assert scheduler.tick() == []
    assert scheduler.tick() == [run_id]


def test_a_worker_that_died_before_claiming_ends_interrupted_not_queued_forever(store, executor):
    run_id = queue(store)
    scheduler = Scheduler(store, executor)
    assert scheduler.tick() == [run_id]
    executor.kill(executor.processes[0].pid)
    # A worker that crashes at start would crash again: the run ends interrupted, with the message why.
    assert scheduler.tick() == []
    assert store.get(run_id).status == "interrupted"


def test_a_run_that_goes_on_training_after_a_stop_is_killed(store, executor):
    run_id = queue(store)
    scheduler = Scheduler(store, executor, stop_grace_s=0.2)
    scheduler.tick()
    pid = executor.processes[0].pid
    assert store.claim(run_id, "cpu", pid=pid)
    store.heartbeat(run_id, {"phase": "train", "step": 10})
    store.request_stop(run_id)
    scheduler.tick()
    store.heartbeat(run_id, {"phase": "train", "step": 20})  # still stepping: the stop is being ignored
    scheduler.tick()
    assert executor.killed == []  # within the grace period the run may still stop by itself
    time.sleep(0.3)
    scheduler.tick()
    assert executor.killed == [pid]
    record = store.get(run_id)
    assert record.status == "stopped"
    assert "after the stop request" in record.error


def test_a_run_testing_and_saving_after_its_stop_is_left_to_finish(store, executor):
    run_id = queue(store)
    scheduler = Scheduler(store, executor, stop_grace_s=0.1, stop_hard_s=60)
    scheduler.tick()
    assert store.claim(run_id, "cpu", pid=executor.processes[0].pid)
    store.heartbeat(run_id, {"phase": "train", "step": 10})
    store.request_stop(run_id)
    scheduler.tick()
    time.sleep(0.2)
    store.heartbeat(run_id)  # alive, training over: it is testing the best model and saving
    scheduler.tick()
    assert executor.killed == []
    assert store.get(run_id).status == "running"


def test_a_run_past_the_time_limit_is_asked_to_stop(store, executor):
    run_id = queue(store)
    scheduler = Scheduler(store, executor, time_limit_s=lambda: 0.1)
    scheduler.tick()
    assert store.claim(run_id, "cpu", pid=executor.processes[0].pid)
    time.sleep(0.2)
    scheduler.tick()
    assert store.get(run_id).stop_requested
    assert executor.killed == []


def test_the_thread_starts_queued_runs_by_itself(store, executor):
    scheduler = Scheduler(store, executor, poll_s=0.05).start()
    try:
        run_id = queue(store)
        deadline = time.time() + 5
        while run_id not in executor.started and time.time() < deadline:
            time.sleep(0.05)
        assert executor.started == [run_id]
    finally:
        scheduler.close()


def test_two_schedulers_sharing_a_store_never_start_a_run_twice(store):
    import threading

    devices = [f"dev{i}" for i in range(6)]
    run_ids = [queue(store, device) for device in devices for _ in range(2)]
    executors = [FakeExecutor(), FakeExecutor()]
    schedulers = [Scheduler(RunStore(store.url), executor) for executor in executors]

    def ticks(scheduler: Scheduler) -> None:
        for _ in range(5):
            scheduler.tick()

    try:
        threads = [threading.Thread(target=ticks, args=(s,)) for s in schedulers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        started = executors[0].started + executors[1].started
        assert len(started) == len(set(started)) == len(devices), "one run per device, each started once"
        assert set(started) <= set(run_ids)
    finally:
        for executor in executors:
            executor.close()
        for scheduler in schedulers:
            scheduler.store.engine.dispose()


def test_a_reserved_run_is_launched_by_one_scheduler_only(store):
    run_id = queue(store)
    other = RunStore(store.url)
    assert store.reserve(run_id)
    assert not other.reserve(run_id)
    store.release(run_id)
    assert other.reserve(run_id)
    other.engine.dispose()


def test_a_launch_that_fails_leaves_the_run_queued_for_the_next_try(store):
    class Broken(FakeExecutor):
        def start(self, run_id: int) -> int:
            raise OSError("no interpreter")

    run_id = queue(store)
    assert Scheduler(store, Broken()).tick() == []
    record = store.get(run_id)
    assert record.status == "queued" and record.pid is None
