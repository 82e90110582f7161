"""Measurement, kept apart by kind: time, FLOPs, energy, carbon, memory, latency, size, environment.

Every figure is stored with its provenance: a `Figure` names its unit, its method and whether it
was measured on this run, counted (from the operations executed) or estimated (a model).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

Kind = Literal["measured", "counted", "estimated"]


@dataclass(frozen=True)
class Provenance:
    kind: Kind
    method: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)
