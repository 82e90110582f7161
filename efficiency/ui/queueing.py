"""Starting runs from a page: check, queue and wake the scheduler; repeat an experiment with more seeds."""

from __future__ import annotations

import re
from typing import Any

from efficiency import lab_settings
from efficiency.config import RunConfig
from efficiency.errors import EfficiencyError
from efficiency.lessons import Plan, queue_missing
from efficiency.runs.checks import checked_device, device_name
from efficiency.store import RunRecord
from efficiency.ui.plain import show_error
from efficiency.ui.resources import get_scheduler, get_store
from efficiency.ui.side_panel import chosen_country


def for_this_lab(config: RunConfig) -> RunConfig:
    """What every run queued from a page takes: the teacher's time limit and the sidebar's country."""
    limit_s = lab_settings.load().time_limit_s
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
    run_id = get_store().create_run(config.to_dict(), device=device, estimate=predicted)
    get_scheduler().wake()
    return run_id


def submit_lesson(plan: Plan) -> str | None:
    """Queue a lesson's missing runs as one request (through the one queue) and wake the scheduler."""
    request = queue_missing(plan, get_store(), adjust=for_this_lab)
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
            store.create_run(config.to_dict(), device=record.device or device_name(config), estimate=record.estimate)
        )
    get_scheduler().wake()
    return ids
