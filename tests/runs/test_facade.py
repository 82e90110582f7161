"""The facade's own duties: heartbeats that fail are logged and counted (a stop request is still seen, and a
store that keeps failing stops the run in words), failures are stored in words, and a result the store
refuses is retried, then kept in a file that `runs import` brings back."""

from __future__ import annotations

import logging
import threading

import pytest
import torch

from efficiency.errors import EfficiencyError
from efficiency.runs.runner import _failures_stored, _Live


class FlakyStore:
    """A store whose heartbeat write fails the first `failures` times; reads still work."""

    url = "postgresql://lab:hunter2@db.example/lab"

    def __init__(self, failures: int, stop_requested: bool = False) -> None:
        self.failures, self.beats, self.finished = failures, 0, []
        self.stop_is_requested = stop_requested

    def heartbeat(self, run_id: int, latest: object) -> bool:
        self.beats += 1
        if self.beats <= self.failures:
            raise RuntimeError("database is locked (password hunter2)")
        return self.stop_is_requested

    def stop_requested(self, run_id: int) -> bool:
        return self.stop_is_requested

    def finish(self, run_id: int, status: str, **fields: object) -> None:
        self.finished.append((status, fields))


def test_a_failed_heartbeat_is_logged_and_counted_and_the_run_goes_on(caplog):
    store = FlakyStore(failures=2)
    live = _Live(store, 7, threading.Event(), interval_s=0.01)  # type: ignore[arg-type]
    with caplog.at_level(logging.WARNING, logger="efficiency.runs.runner"), live:
        live.latest = {"step": 1}
        while store.beats < 4:
            threading.Event().wait(0.01)
    assert live.failed_writes == 2
    assert sum("heartbeat write" in r.getMessage() for r in caplog.records) == 2
    assert not any("hunter2" in r.getMessage() for r in caplog.records), "the store's password is masked"
    assert live.stop_reason is None and not live.stop.is_set()


def test_a_stop_request_is_not_lost_when_heartbeat_writes_fail():
    store = FlakyStore(failures=10**6, stop_requested=True)
    live = _Live(store, 7, threading.Event(), interval_s=0.01)  # type: ignore[arg-type]
    with live:
        assert live.stop.wait(5), "the stop request was read although the write failed"
    assert live.stop_reason is None, "a requested stop is not a store failure"


def test_a_store_that_keeps_failing_stops_the_run_and_says_why():
    store = FlakyStore(failures=10**6)
    live = _Live(store, 7, threading.Event(), interval_s=0.01, give_up_s=0.1)  # type: ignore[arg-type]
    with live:
        assert live.stop.wait(5)
    assert "refused its progress writes" in live.stop_reason and "hunter2" not in live.stop_reason


def test_out_of_memory_is_stored_as_a_message_that_says_what_to_do():
    store = FlakyStore(failures=0)
    with pytest.raises(EfficiencyError, match="Lower the batch size"), _failures_stored(store, 3, torch.device("cpu")):  # type: ignore[arg-type]
        raise torch.OutOfMemoryError("CUDA out of memory")
    status, fields = store.finished[0]
    assert status == "failed" and "Out of memory on cpu" in fields["error"] and "Traceback" in fields["traceback"]


def test_bad_input_is_stored_in_its_own_words_without_a_traceback():
    store = FlakyStore(failures=0)
    with pytest.raises(EfficiencyError), _failures_stored(store, 3, torch.device("cpu")):  # type: ignore[arg-type]
        raise EfficiencyError("Unknown dataset 'x'.")
    assert store.finished == [("failed", {"error": "Unknown dataset 'x'."})]
