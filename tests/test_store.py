import subprocess
import sys
import time

import pytest
from sqlalchemy import update

from efficiency.config import DataConfig, RunConfig
from efficiency.store import RunStore, runs


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


# Plain subprocesses, not multiprocessing: a spawned child re-imports the parent's __main__,
# which after an AppTest is app.py (it would open the default store and start a scheduler).
_HAMMER = """
import os, sys
from efficiency.store import RunStore
store = RunStore(sys.argv[1])
for i in range(int(sys.argv[3])):
    store.heartbeat(int(sys.argv[2]), {"step": i, "pid": os.getpid()})
"""


def _hammers(url: str, run_id: int, n: int, count: int = 3) -> list[subprocess.Popen]:
    command = [sys.executable, "-c", _HAMMER, url, str(run_id), str(n)]
    return [subprocess.Popen(command, stderr=subprocess.PIPE, text=True) for _ in range(count)]


def test_concurrent_writers_do_not_fail(store):
    run_id = store.create_run(RunConfig().to_dict())
    store.claim(run_id, "cpu")
    procs = _hammers(store.url, run_id, 40)
    for _i in range(20):
        store.list()
        store.get(run_id)
    for p in procs:
        _out, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
    assert len(store.progress_of(run_id)) == 120


def test_processes_opening_a_fresh_store_at_once_do_not_fail(store_url):
    url = store_url
    opener = "import sys; from efficiency.store import RunStore; RunStore(sys.argv[1]).list()"
    procs = [subprocess.Popen([sys.executable, "-c", opener, url], stderr=subprocess.PIPE, text=True) for _ in range(6)]
    for p in procs:
        _out, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
    assert RunStore(url).list() == []


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


def test_a_store_from_an_older_version_gains_the_new_columns(tmp_path):
    import sqlite3

    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as conn:  # the runs table as the first version created it, without 'estimate'
        conn.execute(
            "CREATE TABLE runs (id INTEGER PRIMARY KEY, name VARCHAR(200) NOT NULL, note TEXT NOT NULL, "
            "status VARCHAR(16) NOT NULL, model VARCHAR(300) NOT NULL, dataset VARCHAR(300) NOT NULL, "
            "device VARCHAR(32) NOT NULL, created_at FLOAT NOT NULL, started_at FLOAT, finished_at FLOAT, "
            "heartbeat_at FLOAT, host VARCHAR(255), pid INTEGER, pid_started_at FLOAT, stop_requested BOOLEAN NOT NULL, "
            "config JSON NOT NULL, metrics JSON, curves JSON, environment JSON, progress JSON, error TEXT, "
            "traceback TEXT, model_path VARCHAR(1000))"
        )
        conn.execute(
            "INSERT INTO runs (name, note, status, model, dataset, device, created_at, stop_requested, config) "
            "VALUES ('old', '', 'finished', 'tiny', 'd', 'cpu', 0, 0, '{}')"
        )
    store = RunStore(f"sqlite:///{path}")
    assert store.get(1).name == "old" and store.get(1).estimate is None
    run_id = store.create_run({"name": "new"}, device="cpu", estimate={"train_flops": 1.0})
    assert store.get(run_id).estimate == {"train_flops": 1.0}


def test_deleting_a_run_removes_its_kept_model_and_its_id_is_never_reused(store):
    from efficiency import paths

    first = store.create_run({"name": "a"})
    folder = paths.models_dir() / f"run-{first}"
    folder.mkdir(parents=True)
    (folder / "model.safetensors").write_bytes(b"weights")
    store.finish(first, "finished", model_path=str(folder))
    assert store.delete(first)
    assert not folder.exists()
    assert store.create_run({"name": "b"}) == first + 1


def test_an_uploaded_file_goes_with_its_last_run_and_no_other_file_does(store, tmp_path):
    from efficiency import paths

    upload = paths.uploads_dir() / "0123456789ab-mine.csv"
    upload.write_text("text,label\n")
    elsewhere = tmp_path / "mine.csv"  # a file named on the command line is the user's own: never deleted
    elsewhere.write_text("text,label\n")
    first, second, outside = (
        store.create_run(RunConfig(data=DataConfig(dataset=str(path))).to_dict())
        for path in (upload, upload, elsewhere)
    )
    for run_id in (first, second, outside):
        store.finish(run_id, "finished")
    assert store.delete(first) and upload.exists(), "another run still reads it"
    assert store.delete(second) and not upload.exists()
    assert store.delete(outside) and elsewhere.exists()


def test_a_diverged_run_is_stored_with_nulls_on_every_backend(store):
    run_id = store.create_run(RunConfig().to_dict())
    store.claim(run_id, "cpu")
    store.heartbeat(run_id, {"step": 1, "loss": float("nan")})
    curves = {"train": [{"step": 1, "loss": float("nan")}, {"step": 2, "loss": float("inf")}]}
    store.finish(run_id, "finished", metrics={"loss": float("nan"), "accuracy": 0.3}, curves=curves)
    record = store.get(run_id)
    assert record.metrics["loss"] is None and record.metrics["accuracy"] == 0.3
    assert record.metrics["non_finite"]["count"] == 3
    assert [point["loss"] for point in record.curves["train"]] == [None, None]
    assert store.progress_of(run_id)[0]["loss"] is None


def test_a_waiter_on_another_host_is_reaped_when_its_heartbeat_stops(store):
    silent, beating = store.create_run(RunConfig().to_dict()), store.create_run(RunConfig().to_dict())
    with store._write() as conn:  # waiters on another machine: their pids mean nothing here
        conn.execute(update(runs).where(runs.c.id.in_([silent, beating])).values(host="elsewhere", pid=4242))
        conn.execute(update(runs).where(runs.c.id == silent).values(heartbeat_at=time.time() - 600))
    store.beat_waiting(beating)
    assert store.reap_stale() == [silent]
    assert store.get(silent).status == "interrupted" and store.get(beating).status == "queued"


def test_a_store_without_the_owner_columns_gains_them_on_every_backend(store):
    run_id = store.create_run({"name": "before owners"})
    with store._write() as conn:  # the runs table as the version before class servers left it
        conn.exec_driver_sql("ALTER TABLE runs DROP COLUMN owner_name")
        conn.exec_driver_sql("ALTER TABLE runs DROP COLUMN owner")
    reopened = RunStore(store.url)
    assert reopened.get(run_id).owner is None and reopened.get(run_id).name == "before owners"
    reopened.engine.dispose()


def test_racing_claims_let_exactly_one_process_start_a_run(store):
    from concurrent.futures import ThreadPoolExecutor

    run_ids = [store.create_run(RunConfig().to_dict()) for _ in range(5)]
    rivals = [RunStore(store.url) for _ in range(4)]
    try:
        with ThreadPoolExecutor(len(rivals)) as pool:
            for run_id in run_ids:
                wins = list(pool.map(lambda rival, r=run_id: rival.claim(r, "cpu"), rivals))
                assert wins.count(True) == 1, wins
    finally:
        for rival in rivals:
            rival.engine.dispose()


def test_a_store_from_before_settings_uploads_and_the_teachers_order_gains_them_on_every_backend(store):
    run_id = store.create_run({"name": "before"})
    with store._write() as conn:  # the store as the version before them left it
        conn.exec_driver_sql("DROP TABLE settings")
        conn.exec_driver_sql("DROP TABLE uploads")
        conn.exec_driver_sql("ALTER TABLE runs DROP COLUMN queue_order")
    reopened = RunStore(store.url)
    assert reopened.get(run_id).queue_order is None and reopened.read_settings() == {}
    assert reopened.upload_digest("0123456789ab-mine.csv") is None
    assert reopened.move_in_queue(run_id, "front") == [run_id] and reopened.get(run_id).queue_order == 1
    reopened.engine.dispose()
