"""The one facade: config in; progress and a stop signal while it runs; a stored result out.

The CLI, the background worker and the app all run experiments through `run_experiment`.
It keeps only the store, the device's slot and the status: it checks the config, records the
run, waits for the device, hands the run to its recipe (`finetune`, or `baseline` for TF-IDF)
and always writes a final status: finished, stopped (with what it measured so far), or failed
(with a message that says what to do).
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
import traceback as tb
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import torch

from efficiency import unsaved
from efficiency.config import RunConfig
from efficiency.errors import EfficiencyError
from efficiency.figures import FIGURES
from efficiency.measure import environment
from efficiency.model_names import TFIDF
from efficiency.runs import baseline, finetune
from efficiency.runs.checks import checked_device
from efficiency.runs.recipe import ProgressFn, RecipeResult, RunHooks, StatusFn, prepare
from efficiency.runs.slots import device_slot
from efficiency.store import RunStore
from efficiency.store_url import masked, reason
from efficiency.training import Progress

log = logging.getLogger(__name__)

FINAL_WRITE_PAUSES_S = (0.5, 1.0, 2.0, 4.0)  # the final write is retried after each pause: a lock or a blip passes
HEARTBEAT_GIVE_UP_S = 20.0  # under the 30 s after which another host counts a silent run as gone


@dataclass
class RunResult:
    run_id: int
    status: str
    config: dict[str, Any]
    metrics: dict[str, Any] = field(default_factory=dict)
    curves: dict[str, Any] = field(default_factory=dict)
    environment: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    def summary(self) -> dict[str, Any]:
        """The flat record `train --json` prints."""
        m = self.metrics
        # Every figure of the catalogue, then what says how the energy was priced and what the techniques did.
        keys = [f.key for f in FIGURES] + [
            "energy_method", "carbon_intensity_g_per_kwh", "country", "stopped_at", "techniques",
        ]  # fmt: skip
        return {
            "run_id": self.run_id,
            "status": self.status,
            "model": self.config["model"]["name"],
            "dataset": self.config["data"]["dataset"],
            **{k: m.get(k) for k in keys},
            "device": self.environment.get("device") or self.config.get("device"),
            "error": self.error,
            "config": self.config,
        }


class _CancelWatch:
    """While waiting for the device: a stop signal here, or a cancel written to the store (every 2 s).

    Each look also beats the waiter's heartbeat, by which a store shared with other hosts sees it alive.
    """

    def __init__(self, store: RunStore, run_id: int, stop: threading.Event, every_s: float = 2.0) -> None:
        self.store, self.run_id, self.stop, self.every_s = store, run_id, stop, every_s
        self._checked_at = 0.0

    def __call__(self) -> bool:
        if self.stop.is_set():
            return True
        if time.monotonic() - self._checked_at >= self.every_s:
            self._checked_at = time.monotonic()
            try:  # a missed beat is retried at the next look; the run waits on
                self.store.beat_waiting(self.run_id)
            except Exception as exc:
                log.warning("run %s: waiting heartbeat failed: %s", self.run_id, reason(exc, self.store.url))
            record = self.store.get(self.run_id)
            if record is None or record.status != "queued":
                self.stop.set()
        return self.stop.is_set()


class _Live:
    """The latest progress, written to the store about once a second by a heartbeat thread.

    A failed write is logged and retried a second later; the stop flag is then read on its own (a
    read works where a write fails), so a stop request is never lost. When the store has refused
    every write for `give_up_s`, nobody can see or stop the run: it stops by itself and says why.
    """

    def __init__(
        self,
        store: RunStore,
        run_id: int,
        stop: threading.Event,
        interval_s: float = 1.0,
        give_up_s: float | None = None,
    ) -> None:
        self.store, self.run_id, self.stop, self.interval_s = store, run_id, stop, interval_s
        self.give_up_s = HEARTBEAT_GIVE_UP_S if give_up_s is None else give_up_s
        self.latest: dict[str, Any] | None = None
        self._written: dict[str, Any] | None = None
        self._done = threading.Event()
        self.failed_writes = 0  # heartbeat writes the store refused (locked, gone): logged, counted
        self.stop_reason: str | None = None  # set when the run stopped itself because the store failed
        self._written_at = time.monotonic()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-{run_id}", daemon=True)

    def __enter__(self) -> _Live:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()
        self._write()

    def _beat(self) -> None:
        while not self._done.wait(self.interval_s):
            try:
                self._write()
            except Exception:  # the heartbeat thread must outlive any surprise, or the run looks dead
                log.exception("run %s: heartbeat failed", self.run_id)

    def _write(self) -> None:
        latest = self.latest
        fresh = latest if latest is not self._written else None
        try:
            if self.store.heartbeat(self.run_id, fresh):
                self.stop.set()  # the Stop button (or `runs stop`) wrote stop_requested
            self._written, self._written_at = latest, time.monotonic()
        except Exception as exc:  # the run goes on: a missed beat is retried a second later
            self.failed_writes += 1
            why = reason(exc, self.store.url)
            log.warning("run %s: heartbeat write %d failed: %s", self.run_id, self.failed_writes, why)
            self._read_stop_request()
            failing_s = time.monotonic() - self._written_at
            if failing_s > self.give_up_s and self.stop_reason is None:
                self.stop_reason = (
                    f"The run stopped by itself: the run store refused its progress writes for {failing_s:.0f} s "
                    f"({why}), so nobody could follow or stop it. What it measured until then is kept."
                )
                log.error("run %s: %s", self.run_id, self.stop_reason)
                self.stop.set()

    def _read_stop_request(self) -> None:
        try:
            if self.store.stop_requested(self.run_id):
                self.stop.set()
        except Exception as exc:
            log.warning("run %s: reading its stop request failed too: %s", self.run_id, reason(exc, self.store.url))


def run_experiment(
    config: RunConfig,
    *,
    store: RunStore | None = None,
    run_id: int | None = None,
    on_progress: ProgressFn | None = None,
    on_status: StatusFn | None = None,
    stop: threading.Event | None = None,
) -> RunResult:
    """Run one experiment end to end and store it. Raises EfficiencyError for bad input (a queued run stores it)."""
    store = store or RunStore()
    stop = stop or threading.Event()
    say = on_status or (lambda _msg: None)
    if run_id is None:
        device = checked_device(config)  # an invalid config inserts no run: its message is all there is
        run_id = store.create_run(config.to_dict())
    else:  # queued by a page or the scheduler: the run exists, so a config refused now is stored as failed
        device = _checked_or_stored(config, store, run_id)

    store.mark_waiting(run_id)  # so a waiter killed before it starts is reaped, not left queued forever
    cancelled = _CancelWatch(store, run_id, stop)
    with device_slot(str(device), f"run {run_id}", on_wait=lambda who: say(f"waiting for {device}: {who} is using it"),
                     should_stop=cancelled) as got_slot:  # fmt: skip
        if not got_slot:
            record = store.get(run_id)
            if record is not None and record.status == "queued":
                store.finish(run_id, "stopped", error="cancelled while waiting for the device")
            return RunResult(run_id, "stopped", config.to_dict(), error="cancelled while waiting for the device")
        if not store.claim(run_id, str(device)):
            record = store.get(run_id)
            status = record.status if record else "missing"
            return RunResult(run_id, status, config.to_dict(), error=f"run {run_id} was not queued (it is {status})")
        env = environment.describe(device)
        store.set_environment(run_id, env)
        live = _Live(store, run_id, stop)

        def progress(point: Progress | dict[str, Any]) -> None:
            row = dataclasses.asdict(point) if isinstance(point, Progress) else dict(point)
            live.latest = row
            if on_progress:
                on_progress(row)

        with live, _failures_stored(store, run_id, device):
            say(f"run {run_id} on {device}")
            hooks = RunHooks(store, run_id, progress, stop, say)
            recipe = baseline if config.model.name == TFIDF else finetune
            outcome: RecipeResult = recipe.run(prepare(config, device, hooks), hooks)
        env.update(outcome.environment, heartbeat_failures=live.failed_writes)
        error = live.stop_reason if outcome.status == "stopped" else None
        unsaved_message = _store_result(store, run_id, outcome, env, error)
    if unsaved_message:
        say(unsaved_message)
    resolved = outcome.config.to_dict()
    return RunResult(run_id, outcome.status, resolved, outcome.metrics, outcome.curves, env,
                     error=unsaved_message or error)  # fmt: skip


def _store_result(
    store: RunStore, run_id: int, outcome: RecipeResult, env: dict[str, Any], error: str | None
) -> str | None:
    """Write the run's result, retried with a back-off; if the store still refuses it, a JSON file keeps it.

    Returns None when stored, else the message that says where the result went and how to bring it back.
    """
    why = ""
    for attempt, pause_s in enumerate((0.0, *FINAL_WRITE_PAUSES_S), start=1):
        time.sleep(pause_s)
        try:
            store.finish(run_id, outcome.status, metrics=outcome.metrics, curves=outcome.curves,
                         model_path=outcome.model_path, environment=env, error=error)  # fmt: skip
            return None
        except Exception as exc:  # a full disk, a lost database server, a lock held too long
            why = reason(exc, store.url)
            log.warning("run %s: final write %d failed: %s", run_id, attempt, why)
    path = unsaved.save({
        "run_id": run_id, "status": outcome.status, "config": outcome.config.to_dict(), "metrics": outcome.metrics,
        "curves": outcome.curves, "environment": env, "error": error, "model_path": outcome.model_path,
        "store": masked(store.url),
    })  # fmt: skip
    message = (
        f"Run {run_id} {outcome.status}, but the run store refused its result {len(FINAL_WRITE_PAUSES_S) + 1} times "
        f"({why}). The result is saved in {path}: once the store works again (free disk space?), run "
        f"`python -m efficiency runs import {path}`."
    )
    log.error(message)
    try:  # a small write may pass where the result did not: the run then says where its result is
        store.finish(run_id, "failed", error=message)
    except Exception:
        log.warning("run %s: the store refused its status too; the reaper will point at %s", run_id, path)
    return message


def _checked_or_stored(config: RunConfig, store: RunStore, run_id: int) -> torch.device:
    """The config's device, or the run stored as failed with the message that says what to change."""
    try:
        return checked_device(config)
    except EfficiencyError as exc:
        store.finish(run_id, "failed", error=str(exc))
        raise
    except Exception as exc:  # a config that slipped past validation must still end as a stored failure
        store.finish(run_id, "failed", error=f"The config could not be used: {exc}", traceback=tb.format_exc())
        raise EfficiencyError(f"The config could not be used: {exc}") from exc


@contextmanager
def _failures_stored(store: RunStore, run_id: int, device: torch.device) -> Iterator[None]:
    """Whatever ends the recipe early is stored as the run's failure: bad input and out of memory in words."""
    try:
        yield
    except EfficiencyError as exc:
        store.finish(run_id, "failed", error=str(exc))
        raise
    except torch.OutOfMemoryError as exc:
        message = (
            f"Out of memory on {device}. Lower the batch size or --max-length, choose a smaller model, "
            "or close other programs using the device."
        )
        store.finish(run_id, "failed", error=message, traceback=tb.format_exc())
        raise EfficiencyError(message) from exc
    except BaseException as exc:
        store.finish(run_id, "failed", error=f"{type(exc).__name__}: {exc}", traceback=tb.format_exc())
        raise


def stop_on_signals(stop: threading.Event) -> None:
    """SIGTERM and SIGINT set the stop flag: the run ends at its next step and keeps what it measured."""
    import signal

    def handler(signum: int, _frame: Any) -> None:
        if stop.is_set():  # a second Ctrl-C means: now
            raise KeyboardInterrupt
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


__all__ = ["RunResult", "run_experiment", "stop_on_signals"]
