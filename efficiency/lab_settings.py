"""The lab's own settings, kept between sessions: what a teacher sets once for a class."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields

from efficiency import paths

DEFAULT_TIME_LIMIT_MIN = 15.0
DEFAULT_QUEUE_QUOTA = 3  # a class of 30 on one device: three requests each already fill a lesson


@dataclass
class LabSettings:
    # Longest run allowed, in minutes, so one run cannot hold the device for a whole lesson (None: no limit).
    time_limit_min: float | None = DEFAULT_TIME_LIMIT_MIN
    # On a class server, the most requests a student may have waiting in the queue (a lesson's runs count as
    # one); None: no limit. The personal lab has one user and no quota.
    queue_quota: int | None = DEFAULT_QUEUE_QUOTA

    @property
    def time_limit_s(self) -> float | None:
        return None if self.time_limit_min is None else self.time_limit_min * 60


def load() -> LabSettings:
    try:
        raw = json.loads((paths.app_data_dir() / "settings.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return LabSettings()
    known = {f.name for f in fields(LabSettings)}
    return LabSettings(**{k: v for k, v in raw.items() if k in known})


def save(settings: LabSettings) -> None:
    path = paths.app_data_dir() / "settings.json"
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(asdict(settings)), encoding="utf-8")
    tmp.replace(path)
