"""NaN and infinity are stored as null on every backend, noted in the metrics, and the card says the run diverged."""

from __future__ import annotations

import json
import math
import sqlite3

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from efficiency import training
from efficiency.finite import divergence_message, dumps, finite, non_finite_paths
from efficiency.store import RunStore
from tests.conftest import needs_shared_data, tiny_config

CURVES = {"train": [{"step": 1, "loss": 1.1}, {"step": 2, "loss": math.nan}, {"step": 3, "loss": math.inf}]}


def test_non_finite_numbers_become_null_and_nothing_else_changes():
    value = {"a": [1, 2.5, -math.inf, (np.float32("nan"), True)], "b": {"c": math.nan, "d": "NaN"}}
    assert finite(value) == {"a": [1, 2.5, None, [None, True]], "b": {"c": None, "d": "NaN"}}
    assert non_finite_paths(value) == ["a[2]", "a[3][0]", "b.c"]
    assert json.loads(dumps(value))["b"]["c"] is None
    assert "NaN" not in dumps({"x": math.nan}) and "Infinity" not in dumps({"x": -math.inf})


def test_a_diverged_run_is_stored_with_nulls_and_a_note(isolated_home):
    store = RunStore()
    run_id = store.create_run({"name": "diverged"})
    store.heartbeat(run_id, {"step": 2, "loss": math.nan})  # the live progress, too
    store.finish(run_id, "finished", metrics={"accuracy": 0.33, "valid_loss": math.nan}, curves=CURVES)

    record = store.get(run_id)
    assert record.metrics["accuracy"] == 0.33 and record.metrics["valid_loss"] is None
    assert [p["loss"] for p in record.curves["train"]] == [1.1, None, None]
    assert record.metrics["non_finite"] == {"count": 3, "first": ["metrics.valid_loss", "curves.train[1].loss",
                                                                  "curves.train[2].loss"]}  # fmt: skip
    assert store.progress_of(run_id)[0]["loss"] is None
    raw = sqlite3.connect(isolated_home / "runs.sqlite").execute("SELECT metrics, curves FROM runs").fetchone()
    raw += sqlite3.connect(isolated_home / "runs.sqlite").execute("SELECT data FROM progress").fetchone()
    assert not any(word in text for text in raw for word in ("NaN", "Infinity")), raw  # strict JSON on disk


@needs_shared_data
def test_a_tiny_run_whose_loss_blows_up_is_stored_with_nulls_and_said_to_have_diverged(monkeypatch):
    from efficiency.runs.runner import run_experiment

    # The config caps the learning rate below 1, where Adam keeps the tiny model finite: infinite logits instead.
    real_logits = training.logits_of
    monkeypatch.setattr(training, "logits_of", lambda model, batch: real_logits(model, batch) * math.inf)
    config = tiny_config(epochs=1)
    config.measure.energy = config.measure.flops = config.measure.latency = False
    store = RunStore()
    result = run_experiment(config, store=store)
    record = store.get(result.run_id)
    assert record.status == "finished"
    assert [p["loss"] for p in record.curves["train"]] == [None] * 8 and record.curves["valid"][0]["loss"] is None
    assert "diverged" in divergence_message(record.metrics)


def test_the_divergence_message_names_the_loss_and_what_to_do():
    message = divergence_message({"non_finite": {"count": 2, "first": ["curves.train[1].loss", "metrics.x"]}})
    assert "diverged" in message and "curves.train[1].loss" in message and "lower learning rate" in message
    assert "not finite" in divergence_message({"non_finite": {"count": 1, "first": ["metrics.energy_kwh"]}})
    assert divergence_message({"accuracy": 0.9}) is None and divergence_message(None) is None


def _card_status(run_id: int) -> None:
    """The card's status lines (the whole card needs the app's navigation for its links)."""
    from efficiency.store import RunStore
    from efficiency.ui.card import _status

    record = RunStore().get(run_id)
    _status(record, record.metrics or {})


@pytest.mark.parametrize("loss", [math.nan, 0.5])
def test_the_result_card_says_the_run_diverged(loss):
    store = RunStore()
    run_id = store.create_run({"name": "card", "model": {"name": "tiny"}, "data": {"dataset": "x"}})
    curves = {"train": [{"step": 1, "loss": 1.0, "epoch": 0}, {"step": 2, "loss": loss, "epoch": 0}], "valid": []}
    store.finish(run_id, "finished", metrics={"accuracy": 0.3}, curves=curves)
    at = AppTest.from_function(_card_status, args=(run_id,), default_timeout=60).run()
    assert not at.exception, at.exception
    warnings = [w.value for w in at.warning]
    assert any("diverged" in w for w in warnings) == math.isnan(loss), warnings
