"""The facade when the store fails mid-run (injected; the recipe is a stand-in, so nothing trains)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy.exc import OperationalError

from efficiency import cli, unsaved
from efficiency.runs import runner
from efficiency.runs.recipe import Prepared, RecipeResult, RunHooks
from efficiency.store import RunStore
from tests.conftest import needs_shared_data, tiny_config

pytestmark = needs_shared_data
FULL = OperationalError("UPDATE runs ...", {}, Exception("database or disk is full"))


@pytest.fixture(autouse=True)
def quick(monkeypatch):
    monkeypatch.setattr(runner, "FINAL_WRITE_PAUSES_S", (0.0, 0.0))


def stand_in(wait_for_stop: bool = False):
    """A recipe that measures nothing: finished at once, or stopped once its stop flag is set."""

    def run(prepared: Prepared, hooks: RunHooks) -> RecipeResult:
        hooks.progress({"step": 1, "loss": 0.5, "phase": "train"})
        if wait_for_stop:
            assert hooks.stop.wait(10), "the run was never told to stop"
        status = "stopped" if hooks.stop.is_set() else "finished"
        return RecipeResult(status, prepared.config, {"accuracy": 0.6}, {"train": [{"step": 1, "loss": 0.5}]}, None)

    return run


def test_a_run_whose_result_the_store_refuses_says_where_it_went_and_comes_back(monkeypatch, capsys):
    monkeypatch.setattr(runner.finetune, "run", stand_in())
    store = RunStore()
    refused = []

    def finish(run_id, status, **fields):
        refused.append(status)
        if status == "finished":
            raise FULL
        return RunStore.finish(store, run_id, status, **fields)

    store.finish = finish  # this store object only: the result is refused, a short status is not
    said = []
    result = runner.run_experiment(tiny_config(), store=store, on_status=said.append)
    path = unsaved.find(result.run_id)
    assert refused == ["finished"] * 3 + ["failed"]
    assert path is not None and str(path) in result.error and str(path) in said[-1]
    assert str(path) in store.get(result.run_id).error

    del store.finish  # the store works again
    assert cli.main(["runs", "import", str(path)]) == 0
    record = store.get(result.run_id)
    assert record.status == "finished" and record.metrics["accuracy"] == 0.6 and record.environment["host"]


def test_a_store_that_refuses_every_heartbeat_stops_the_run_which_says_why(monkeypatch):
    monkeypatch.setattr(runner.finetune, "run", stand_in(wait_for_stop=True))
    monkeypatch.setattr(runner, "HEARTBEAT_GIVE_UP_S", 0.3)
    store = RunStore()

    def heartbeat(run_id, latest=None):
        raise FULL

    store.heartbeat = heartbeat  # this store object only
    result = runner.run_experiment(tiny_config(), store=store, stop=threading.Event())
    record = store.get(result.run_id)
    assert result.status == record.status == "stopped"
    assert "refused its progress writes" in record.error and record.metrics["accuracy"] == 0.6
