"""A lesson's runs against the run store: reused when done, joined when queued, queued when missing.

A lesson run (its flags and one seed) matches a stored run when their resolved configs agree, with
the display-only settings left out (name, note, the country that prices the CO2, the time limit, the
data folder, whether the weights are kept). A finished match is not trained again, a queued or running
one is joined, so thirty students opening one lesson train each run once. The missing runs are queued
together under one request id (the store's `request` column), so a class quota can count the lesson once.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from efficiency.config import RunConfig
from efficiency.flags import config_from_flags
from efficiency.lessons.schema import Lesson, LessonRun
from efficiency.owners import Actor
from efficiency.store import ACTIVE, RunRecord, RunStore

LEFT_OUT = ("name", "note", "version", "save_model")  # what a run is called and whether its weights are kept
LEFT_OUT_NESTED = {"measure": ("country",), "train": ("time_limit_s",), "data": ("data_dir",)}


@dataclass
class PlannedRun:
    """One lesson run at one seed, and the stored run that answers it (None: missing)."""

    run: str  # the lesson run's id
    seed: int
    config: RunConfig
    key: str
    record_id: int | None = None
    status: str = "missing"  # missing | queued | running | finished


@dataclass
class Plan:
    lesson: Lesson
    items: list[PlannedRun] = field(default_factory=list)

    @property
    def missing(self) -> list[PlannedRun]:
        return [item for item in self.items if item.status == "missing"]

    @property
    def done(self) -> bool:
        return all(item.status == "finished" for item in self.items)

    def record_ids(self) -> dict[str, list[int]]:
        """Each lesson run's id -> the stored runs that answer it (finished or under way)."""
        out: dict[str, list[int]] = {run.id: [] for run in self.lesson.runs}
        for item in self.items:
            if item.record_id is not None:
                out[item.run].append(item.record_id)
        return out


def lesson_config(lesson: Lesson, run: LessonRun, seed: int) -> RunConfig:
    """The config `train` builds from the run's flags, at `seed`, named after the lesson unless it names itself.

    A dataset file named by a relative path is looked for beside the lesson file first, so a teacher's
    lesson and its data travel together.
    """
    from efficiency.data.userfile import looks_like_file

    config = config_from_flags(run.args)
    config.seed = seed
    dataset = Path(config.data.dataset).expanduser()
    if looks_like_file(config.data.dataset) and not dataset.is_absolute() and lesson.source:
        beside = Path(lesson.source).parent / dataset
        if beside.is_file():
            config.data.dataset = str(beside.resolve())
    if not config.name:
        config.name = f"{lesson.name}: {run.label} (seed {seed})"
    return config.validate()


def reuse_key(config: RunConfig, device: str | None = None) -> str:
    """What makes two runs the same run: the resolved config and seed on the resolved device, display aside.

    `device`: where a stored run ran ('cpu', 'cuda:0'); None resolves the config's device on this machine.
    """
    from efficiency.runs.checks import device_name

    resolved = _resolved(config).to_dict()
    resolved["device"] = device or device_name(config)
    kept = {k: v for k, v in resolved.items() if k not in LEFT_OUT}
    for section, names in LEFT_OUT_NESTED.items():
        kept[section] = {k: v for k, v in kept[section].items() if k not in names}
    return json.dumps(kept, sort_keys=True, default=str)


def _resolved(config: RunConfig) -> RunConfig:
    """The recommended defaults filled in as a run fills them (runs.recipe.resolve_defaults)."""
    from efficiency.data import load_dataset, resolve
    from efficiency.data.userfile import looks_like_file
    from efficiency.runs.recipe import resolve_defaults

    if config.data.max_length is not None:
        default_max_length = config.data.max_length
    elif looks_like_file(config.data.dataset):
        default_max_length = load_dataset(config.data, config.seed, allow_download=False).default_max_length
    else:
        default_max_length = resolve(config.data.dataset).family.default_max_length
    return resolve_defaults(config, default_max_length)


def record_key(record: RunRecord) -> str | None:
    """A stored run's reuse key (None: a config this version cannot read, never matched)."""
    try:
        device = record.device if record.device not in ("", "auto") else None  # queued from the CLI: unresolved
        return reuse_key(RunConfig.from_dict(record.config), device)
    except Exception:  # an old or hand-edited config: it simply matches nothing
        return None


def plan_lesson(lesson: Lesson, store: RunStore) -> Plan:
    """Each lesson run at each seed, matched to the latest finished run, else to a queued or running one."""
    plan = Plan(lesson)
    for run in lesson.runs:
        for seed in run.seeds:
            config = lesson_config(lesson, run, seed)
            plan.items.append(PlannedRun(run.id, seed, config, reuse_key(config)))
    wanted = {(item.config.model.name, item.config.data.dataset) for item in plan.items}
    candidates = [r for r in store.list() if (r.model, r.dataset) in wanted and r.status in ("finished", *ACTIVE)]
    _match(plan.items, candidates)
    return plan


def _match(items: Iterable[PlannedRun], records: list[RunRecord]) -> None:
    by_key: dict[str, list[RunRecord]] = {}
    for record in records:  # newest first, as the store lists them
        key = record_key(record)
        if key is not None:
            by_key.setdefault(key, []).append(record)
    for item in items:
        matches = by_key.get(item.key, [])
        chosen = next((r for r in matches if r.status == "finished"), None) or next(iter(matches), None)
        if chosen is not None:
            item.record_id, item.status = chosen.id, chosen.status


def queue_missing(
    plan: Plan,
    store: RunStore,
    adjust: Callable[[RunConfig], RunConfig] | None = None,
    owner: Actor | None = None,
    quota: int | None = None,
) -> str | None:
    """Queue the plan's missing runs as one request, in the lesson's order; returns the request id (None: none).

    `adjust` lets a page apply what it applies to every run it queues (the lab's time limit, the
    student's country): display-only settings, so the runs still match the lesson. On a class server
    `owner` owns the runs and `quota` counts the whole request once (RunStore.create_run).
    """
    from efficiency.runs.checks import checked_device

    missing = plan.missing
    if not missing:
        return None
    request = f"lesson:{plan.lesson.name}:{uuid.uuid4().hex[:12]}"
    configs = [adjust(item.config) if adjust else item.config for item in missing]
    devices = [str(checked_device(config)) for config in configs]  # refuse before queueing any
    for item, config, device in zip(missing, configs, devices, strict=True):
        item.record_id = store.create_run(config.to_dict(), device=device, request=request, owner=owner, quota=quota)
        item.status = "queued"
    return request
