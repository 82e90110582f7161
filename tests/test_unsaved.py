"""A result the store refuses is retried, then kept in a JSON file that `runs import` brings back."""

from __future__ import annotations

import json
import math

import pytest
from sqlalchemy import update
from sqlalchemy.exc import OperationalError

from efficiency import cli, unsaved
from efficiency.config import RunConfig
from efficiency.errors import DataError, EfficiencyError
from efficiency.runs import runner
from efficiency.runs.recipe import RecipeResult
from efficiency.store import RunStore, runs

CONFIG = RunConfig(name="kept")


@pytest.fixture
def outcome() -> RecipeResult:
    metrics = {"accuracy": 0.75, "valid_loss": math.nan}
    curves = {"train": [{"step": 1, "loss": 0.9}], "valid": []}
    return RecipeResult("finished", CONFIG, metrics, curves, model_path=None)


@pytest.fixture(autouse=True)
def no_pauses(monkeypatch):
    monkeypatch.setattr(runner, "FINAL_WRITE_PAUSES_S", (0.0, 0.0, 0.0))


def running_run(store: RunStore) -> int:
    run_id = store.create_run(CONFIG.to_dict())
    store.claim(run_id, "cpu")
    return run_id


def refuse(store: RunStore, times: int) -> list[str]:
    """Make the store's final write fail `times` times, as a full disk does."""
    calls: list[str] = []
    real_finish = store.finish

    def finish(run_id, status, **fields):
        calls.append(status)
        if len(calls) <= times:
            raise OperationalError("UPDATE runs ...", {}, Exception("database or disk is full"))
        return real_finish(run_id, status, **fields)

    store.finish = finish  # this store object only
    return calls


def heal(store: RunStore) -> None:
    del store.finish  # the instance's patched finish goes; the class's own is back


def test_the_final_write_is_retried_until_the_store_takes_it(outcome):
    store = RunStore()
    run_id = running_run(store)
    calls = refuse(store, times=2)
    assert runner._store_result(store, run_id, outcome, {"device": "cpu"}, None) is None
    assert calls == ["finished"] * 3
    record = store.get(run_id)
    assert record.status == "finished" and record.metrics["accuracy"] == 0.75
    assert record.environment == {"device": "cpu"} and unsaved.find(run_id) is None


def test_a_refused_result_goes_to_a_file_the_run_points_at_and_import_brings_back(outcome, capsys):
    store = RunStore()
    run_id = running_run(store)
    refuse(store, times=4)  # every try of the result; the short status write passes
    message = runner._store_result(store, run_id, outcome, {"device": "cpu"}, None)
    path = unsaved.find(run_id)
    assert path is not None and str(path) in message and f"runs import {path}" in message
    assert json.loads(path.read_text())["metrics"]["valid_loss"] is None, "strict JSON, NaN as null"
    heal(store)
    record = store.get(run_id)
    assert record.status == "failed" and str(path) in record.error

    assert cli.main(["runs", "import", str(path)]) == 0
    assert f"run {run_id}" in capsys.readouterr().out
    record = store.get(run_id)
    assert record.status == "finished" and record.metrics["accuracy"] == 0.75 and record.error is None
    assert record.curves == outcome.curves and record.environment == {"device": "cpu"}
    assert cli.main(["runs", "import", str(path)]) == cli.EXIT_BAD_INPUT, "imported once only"
    assert "already in the store" in capsys.readouterr().err


def test_when_even_the_status_is_refused_the_reaper_points_at_the_file(outcome):
    store = RunStore()
    run_id = running_run(store)
    refuse(store, times=99)
    runner._store_result(store, run_id, outcome, {}, None)
    heal(store)
    with store.engine.begin() as conn:  # its worker has ended: a pid that cannot be alive
        conn.execute(update(runs).where(runs.c.id == run_id).values(pid=2**22 + 1, pid_started_at=1.0))
    record = store.get(run_id)
    assert record.status == "interrupted" and "runs import" in record.error and "killed" not in record.error


def test_a_result_from_another_store_becomes_a_new_run(outcome):
    path = unsaved.save({"run_id": 99, "status": "finished", "config": CONFIG.to_dict(), "metrics": {"accuracy": 1.0},
                         "curves": {}, "environment": {}, "model_path": "/etc"})  # fmt: skip
    store = RunStore()
    run_id = unsaved.import_file(store, path)
    record = store.get(run_id)
    assert record.status == "finished" and record.metrics == {"accuracy": 1.0}
    assert record.model_path is None, "a model folder outside the lab's models folder is never taken"


DAMAGED = {"format": unsaved.FORMAT, "run_id": 1, "status": "running", "config": {}, "metrics": {}, "curves": {},
           "environment": {}}  # fmt: skip


@pytest.mark.parametrize(
    "text, says",
    [
        ("not json", "not JSON"),
        ('{"run_id": 1}', "lacks the marker"),
        (json.dumps(DAMAGED), "'status'"),
        (json.dumps({"format": unsaved.FORMAT, "run_id": "1"}), "'run_id'"),
    ],
)
def test_a_file_that_is_not_a_saved_result_is_refused_in_words(tmp_path, text, says):
    path = tmp_path / "result.json"
    path.write_text(text)
    with pytest.raises(DataError, match=says):
        unsaved.import_file(RunStore(), path)


def test_a_result_nowhere_to_be_written_says_so(monkeypatch, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setattr(unsaved, "folders", lambda: [blocker / "a", blocker / "b"])
    with pytest.raises(EfficiencyError, match="could not be written anywhere"):
        unsaved.save({"run_id": 1})
