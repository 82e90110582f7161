"""Starting runs from a page: check, queue and wake the scheduler; repeat an experiment with more seeds."""

from __future__ import annotations

import re
from typing import Any

import streamlit as st

from efficiency import lab_settings
from efficiency.config import RunConfig
from efficiency.errors import EfficiencyError
from efficiency.lessons import Plan, queue_missing
from efficiency.runs.checks import checked_device, device_name
from efficiency.runs.uploads import keep_in_store
from efficiency.store import RunRecord
from efficiency.ui.identity import class_mode, current_actor
from efficiency.ui.plain import show_error
from efficiency.ui.resources import get_scheduler, get_store
from efficiency.ui.side_panel import chosen_country


def for_this_lab(config: RunConfig) -> RunConfig:
    """What every run queued from a page takes: the teacher's time limit and the sidebar's country."""
    limit_s = lab_settings.load(get_store()).time_limit_s
    if limit_s is not None:
        own = config.train.time_limit_s
        config.train.time_limit_s = limit_s if own is None else min(own, limit_s)
    config.measure.country = config.measure.country or chosen_country()
    return config


def submit(config: RunConfig, predicted: dict[str, Any] | None = None) -> int | None:
    """Validate, queue and wake the scheduler; returns the run id, or shows the message and returns None."""
    config = for_this_lab(config)
    try:
        device = str(checked_device(config))
    except EfficiencyError as exc:
        show_error(str(exc))
        return None
    try:
        keep_in_store(config.data.dataset, get_store())  # an uploaded file: any machine of the class can run it
        run_id = get_store().create_run(
            config.to_dict(), device=device, estimate=predicted, owner=current_actor(), quota=_quota()
        )
    except EfficiencyError as exc:  # a student's queue quota on a class server, a file too large
        show_error(str(exc))
        return None
    get_scheduler().wake()
    return run_id


def _quota() -> int | None:
    """A student's queued requests at most, on a class server (the teacher's setting); none otherwise."""
    return lab_settings.load(get_store()).queue_quota if class_mode() else None


def change_run(action: str, run_id: int) -> None:
    """Stop, cancel or delete a run as this browser: on a class server only its owner or the teacher may."""
    store = get_store()
    try:
        if action == "delete":
            store.delete(run_id, actor=current_actor())
        else:
            store.request_stop(run_id, actor=current_actor())
    except EfficiencyError as exc:
        st.session_state[f"refused-{run_id}"] = str(exc)


def refusal(run_id: int) -> None:
    """The message of a change this browser was refused, shown once."""
    message = st.session_state.pop(f"refused-{run_id}", None)
    if message:
        show_error(message)


def submit_lesson(plan: Plan) -> str | None:
    """Queue a lesson's missing runs as one request (through the one queue) and wake the scheduler."""
    request = queue_missing(plan, get_store(), adjust=for_this_lab, owner=current_actor(), quota=_quota())
    get_scheduler().wake()
    return request


def repeat_with_seeds(record: RunRecord, more: int = 2) -> list[int]:
    """Queue the same experiment with the next unused seeds."""
    from efficiency.compare import signature

    store = get_store()
    used = {r.seed for r in store.list() if signature(r.config) == signature(record.config)}
    ids, seed = [], record.seed
    while len(ids) < more:
        seed += 1
        if seed in used:
            continue
        base_name = re.sub(r" \(seed \d+\)$", "", record.name)
        config = RunConfig.from_dict({**record.config, "seed": seed, "name": f"{base_name} (seed {seed})"})
        ids.append(
            store.create_run(
                config.to_dict(),
                device=record.device or device_name(config),
                estimate=record.estimate,
                owner=current_actor(),
            )
        )
    get_scheduler().wake()
    return ids
