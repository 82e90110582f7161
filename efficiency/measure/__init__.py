"""Measurement, kept apart by kind: time, FLOPs, energy, carbon, memory, latency, size, environment.

Every figure is stored with its `Provenance`: its method and whether it was measured on this run,
counted (from the operations executed) or estimated (a model). How a figure is shown (label, unit,
scale) is the figure catalogue's business, not this package's.
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
