import multiprocessing as mp
import os
import subprocess
import sys
import time

import pytest
from sqlalchemy import update

from efficiency.config import RunConfig
from efficiency.store import RunStore, runs


@pytest.fixture
def store(tmp_path):
    return RunStore(f"sqlite:///{tmp_path / 'runs.sqlite'}")


def test_default_store_lives_in_the_app_data_folder(isolated_home):
    store = RunStore()
    assert store.url == f"sqlite:///{isolated_home / 'runs.sqlite'}"
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() > 0


def test_life_of_a_run(store):
    run_id = store.create_run(RunConfig(name="x").to_dict())
    assert store.get(run_id).status == "queued"
    assert store.queue_position(run_id) == 1
    assert store.claim(run_id, "cpu")
    assert not store.claim(run_id, "cpu"), "a run is claimed once"
    assert store.heartbeat(run_id, {"step": 1, "loss": 0.9}) is False
    assert store.heartbeat(run_id, {"step": 2, "loss": 0.8}) is False
    store.request_stop(run_id)
    assert store.heartbeat(run_id) is True
    store.finish(run_id, "stopped", metrics={"accuracy": 0.5}, curves={"train": []})
    record = store.get(run_id)
    assert record.status == "stopped" and record.metrics == {"accuracy": 0.5}
    assert [p["step"] for p in store.progress_of(run_id)] == [1, 2]
    assert record.progress == {"step": 2, "loss": 0.8}


def test_cancelling_a_queued_run(store):
    first = store.create_run(RunConfig().to_dict())
    second = store.create_run(RunConfig().to_dict())
    assert store.queue_position(second) == 2
    assert store.request_stop(first) == "stopped"
    assert store.queue_position(second) == 1
    assert store.get(first).error == "cancelled before it started"


def test_dead_process_is_marked_interrupted_and_nothing_else_changes(store):
    done = store.create_run(RunConfig(name="done").to_dict())
    store.claim(done, "cpu")
    store.finish(done, "finished", metrics={"accuracy": 0.7})
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    dead = store.create_run(RunConfig(name="dead").to_dict())
    store.claim(dead, "cpu", pid=child.pid)
    store.heartbeat(dead, {"step": 3})
    assert store.get(dead).status == "running", "a live process is never touched"
    child.kill()
    child.wait()
    record = store.get(dead)
    assert record.status == "interrupted"
    assert "ended without finishing" in record.error
    assert store.progress_of(dead)[0]["step"] == 3, "progress recorded before is kept"
    assert store.get(done).metrics == {"accuracy": 0.7}


def test_other_hosts_are_judged_by_heartbeat(store):
    fresh = store.create_run(RunConfig().to_dict())
    stale = store.create_run(RunConfig().to_dict())
    for run_id in (fresh, stale):
        store.claim(run_id, "cuda")
    with store._write() as conn:
        conn.execute(update(runs).where(runs.c.id == fresh).values(host="elsewhere", heartbeat_at=time.time()))
        conn.execute(update(runs).where(runs.c.id == stale).values(host="elsewhere", heartbeat_at=time.time() - 600))
    assert store.reap_stale() == [stale]
    assert store.get(fresh).status == "running"


def _hammer(url: str, run_id: int, n: int) -> None:
    store = RunStore(url)
    for i in range(n):
        store.heartbeat(run_id, {"step": i, "pid": os.getpid()})


def test_concurrent_writers_do_not_fail(store):
    run_id = store.create_run(RunConfig().to_dict())
    store.claim(run_id, "cpu")
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_hammer, args=(store.url, run_id, 40)) for _ in range(3)]
    for p in procs:
        p.start()
    for _i in range(20):
        store.list()
        store.get(run_id)
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    assert len(store.progress_of(run_id)) == 120


def test_an_active_run_cannot_be_deleted(store):
    from efficiency.errors import EfficiencyError

    run_id = store.create_run(RunConfig().to_dict())
    with pytest.raises(EfficiencyError, match="stop it first"):
        store.delete(run_id)
    store.request_stop(run_id)
    assert store.delete(run_id)


def test_a_waiter_that_died_is_reaped_and_a_plain_queued_row_is_not(store):
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    waiting = store.create_run(RunConfig().to_dict())
    untouched = store.create_run(RunConfig().to_dict())
    store.mark_waiting(waiting, pid=child.pid)
    assert store.get(waiting).status == "queued"
    child.kill()
    child.wait()
    assert store.get(waiting).status == "interrupted"
    assert store.get(untouched).status == "queued", "inserted by a page, waiting for a worker"
