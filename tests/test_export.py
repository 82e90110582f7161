"""Exports that leave the machine: no spreadsheet formula runs from a cell, no server detail is shared."""

from __future__ import annotations

import csv
import io
import json

import pytest

from efficiency.export import export_runs, spreadsheet_safe
from efficiency.store import RunStore

FORMULAS = ['=HYPERLINK("http://x","click")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]


@pytest.fixture
def store(tmp_path):
    return RunStore(f"sqlite:///{tmp_path / 'runs.sqlite'}")


def a_run(store: RunStore, name: str, **metrics: object) -> int:
    config = {"name": name, "model": {"name": "minilm"}, "data": {"dataset": "/srv/lab/uploads/0123456789ab-mine.csv"}}
    run_id = store.create_run(config, device="cpu")
    store.finish(
        run_id,
        "failed",
        metrics={"accuracy": 0.5, "loss_delta": -0.25, **metrics},
        error="File /srv/lab/uploads/0123456789ab-mine.csv could not be read.",
        traceback='Traceback (most recent call last):\n  File "/srv/lab/efficiency/x.py", line 1',
    )
    store.set_environment(run_id, {"host": "lab-server-7", "device": "cpu", "python": "3.11"})
    return run_id


@pytest.mark.parametrize("formula", FORMULAS)
def test_a_csv_cell_that_would_run_as_a_formula_is_neutralised(store, formula):
    a_run(store, formula, note_metric=formula)
    row = next(csv.DictReader(io.StringIO(export_runs(store.list(), "csv"), newline="")))
    assert row["name"] == "'" + formula and row["note_metric"] == "'" + formula
    assert row["accuracy"] == "0.5" and row["loss_delta"] == "-0.25", "numbers stay numbers"


def test_only_text_is_neutralised():
    assert [spreadsheet_safe(v) for v in (-2, -0.5, 3, None, "ok", "a=b")] == [-2, -0.5, 3, None, "ok", "a=b"]


def test_the_shared_json_has_no_traceback_host_pid_or_server_path(store):
    run_id = a_run(store, "shared")
    text = export_runs(store.list(), "json")
    (record,) = json.loads(text)
    assert record["id"] == run_id and record["metrics"]["accuracy"] == 0.5
    assert not {"traceback", "host", "pid", "pid_started_at"} & record.keys()
    assert "host" not in record["environment"] and record["environment"]["device"] == "cpu"
    assert record["error"] == "File 0123456789ab-mine.csv could not be read."
    assert record["config"]["data"]["dataset"] == "0123456789ab-mine.csv"
    for secret in ("Traceback", "lab-server-7", "/srv/lab"):
        assert secret not in text and secret not in export_runs(store.list(), "csv")
