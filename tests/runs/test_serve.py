"""A queue without the web app: `train --queue` inserts a run at once, `queue serve` starts it until stopped."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from efficiency import cli
from efficiency.runs.scheduler import Scheduler
from efficiency.runs.serve import local_scheduler
from efficiency.store_url import ENV_VAR


def test_train_queue_prints_the_run_id_at_once(store, capsys):
    argv = ["--store", store.url, "train", "--model", "tiny", "--dataset", "nusax-senti/javanese"]
    assert cli.main([*argv, "--queue", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == {"run_id": printed["run_id"], "status": "queued"}
    record = store.get(printed["run_id"])
    assert record.status == "queued" and record.device == "cpu" and record.model == "tiny"
    assert cli.main([*argv, "--queue"]) == 0
    assert "queued on cpu" in capsys.readouterr().out


def test_a_refused_config_queues_nothing(store, capsys):
    argv = ["--store", store.url, "train", "--model", "tiny", "--device", "cuda:7", "--queue", "--json"]
    assert cli.main(argv) == cli.EXIT_BAD_INPUT
    assert capsys.readouterr().err.startswith("error:")
    assert store.list() == []


def test_the_queue_server_is_the_apps_scheduler(store):
    scheduler = local_scheduler(store)
    assert type(scheduler) is Scheduler and scheduler.store is store


def test_queue_serve_starts_queued_runs_until_sigterm(store):
    # A stored config the worker refuses at once: the queue server started it, and nothing trains.
    run_id = store.create_run({"name": "x", "model": {"name": "tiny"}, "data": {"dataset": 7}}, device="cpu")
    # The test server trusts local connections: a password is ignored there, and must not be shown.
    url = store.url.replace("efflab@", "efflab:s3cret-pw@")
    server = subprocess.Popen(
        [sys.executable, "-m", "efficiency", "queue", "serve"],
        env={**os.environ, ENV_VAR: url},
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 90
        while store.get(run_id).status == "queued" and time.monotonic() < deadline:
            time.sleep(0.5)
        record = store.get(run_id)
        assert record.status == "failed" and "stored config cannot be used" in record.error
    finally:
        server.send_signal(signal.SIGTERM)
        _out, err = server.communicate(timeout=30)
    assert server.returncode == 0, err
    assert "queue server stopped" in err and "Traceback" not in err
    assert "s3cret-pw" not in err


def test_a_run_waiting_for_its_device_beats_so_other_hosts_see_it_alive(store):
    import threading

    from efficiency.runs.runner import _CancelWatch

    run_id = store.create_run({"name": "w"}, device="cpu")
    store.mark_waiting(run_id)
    before = store.get(run_id).heartbeat_at
    time.sleep(0.05)
    assert _CancelWatch(store, run_id, threading.Event(), every_s=0)() is False, "still queued: it waits on"
    assert store.get(run_id).heartbeat_at > before


def test_queue_serve_s_time_limit_is_the_one_its_own_store_holds(store, monkeypatch):
    from efficiency import lab_settings

    monkeypatch.delenv(ENV_VAR, raising=False)  # the store comes by --store, not by the environment
    lab_settings.save(lab_settings.LabSettings(time_limit_min=10.0), store)
    lab_settings.save(lab_settings.LabSettings(time_limit_min=None))  # this machine's own file says no limit
    assert local_scheduler(store).time_limit_s() == 10 * 60 * 1.25 + 120
