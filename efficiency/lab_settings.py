"""The lab's own settings, kept between sessions: what a teacher sets once for a class.

The personal lab keeps them in a small file in its application-data folder, as it always did. A shared
store (any store but the personal lab's own SQLite file: a class database) keeps them in its `settings`
table, so every app server and queue server of a class reads the same; the first time such a store is
read, this machine's file's values are copied into it (once: after that the store's values rule).
"""

from __future__ import annotations

import functools
import json
import os
from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING, Any

from efficiency import paths

if TYPE_CHECKING:
    from efficiency.store import RunStore

DEFAULT_TIME_LIMIT_MIN = 15.0
DEFAULT_QUEUE_QUOTA = 3  # a class of 30 on one device: three requests each already fill a lesson


@dataclass
class LabSettings:
    # Longest run allowed, in minutes, so one run cannot hold the device for a whole lesson (None: no limit).
    time_limit_min: float | None = DEFAULT_TIME_LIMIT_MIN
    # On a class server, the most requests a student may have waiting in the queue (a lesson's runs count as
    # one); None: no limit. The personal lab has one user and no quota.
    queue_quota: int | None = DEFAULT_QUEUE_QUOTA
    # The most disk the kept models may take, in GiB (efficiency.runs.disk_cap); None: no cap.
    models_cap_gib: float | None = None

    @property
    def time_limit_s(self) -> float | None:
        return None if self.time_limit_min is None else self.time_limit_min * 60

    @property
    def models_cap_mib(self) -> float | None:
        return None if self.models_cap_gib is None else self.models_cap_gib * 1024


def load(store: RunStore | None = None) -> LabSettings:
    """The settings of `store`'s lab (None: the store $EFFLAB_STORE names, else the personal lab's)."""
    shared = _shared(store)
    if shared is None:
        return _from_raw(_read_file())
    stored = shared.read_settings()
    if not stored:
        shared.seed_settings(asdict(_from_raw(_read_file())))  # this machine's file, once
        stored = shared.read_settings()
    return _from_raw(stored)


def save(settings: LabSettings, store: RunStore | None = None) -> None:
    shared = _shared(store)
    if shared is not None:
        shared.write_settings(asdict(settings))
        return
    path = paths.app_data_dir() / "settings.json"
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(asdict(settings)), encoding="utf-8")
    tmp.replace(path)


def _shared(store: RunStore | None) -> RunStore | None:
    """The store that holds the settings, or None for the personal lab's file."""
    from efficiency.store_schema import default_url, personal_url

    if store is None:
        url = default_url()
        return None if url == personal_url() else _opened(url)
    return None if store.url == personal_url() else store


@functools.lru_cache(maxsize=4)
def _opened(url: str) -> RunStore:
    """One store per URL for this process: the scheduler reads the time limit every second."""
    from efficiency.store import RunStore

    return RunStore(url)


def _read_file() -> dict[str, Any]:
    try:
        raw = json.loads((paths.app_data_dir() / "settings.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}
    return raw if isinstance(raw, dict) else {}


def _from_raw(raw: dict[str, Any]) -> LabSettings:
    """Settings from stored values: unknown keys (another version's) and values of the wrong kind are ignored."""
    defaults = LabSettings()
    values = {}
    for item in fields(LabSettings):
        if item.name not in raw:
            continue
        value = raw[item.name]
        whole = item.name == "queue_quota"
        if value is None or (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and value > 0
            and (not whole or value == int(value))
        ):
            values[item.name] = None if value is None else int(value) if whole else float(value)
        else:
            values[item.name] = getattr(defaults, item.name)
    return LabSettings(**values)
