"""The one place that reads CodeCarbon's private attributes, for what its public API does not give.

- the energy so far while a tracker runs (`_total_energy`): the live view's energy figure;
- which probe measured each part (`_hardware`, and a CPU's `_mode` and `_tdp`): measured or estimated;
- the grid-mix rule that turns a country's energy mix into kg CO2eq per kWh.

Each reader fails soft at run time (a missing figure, never a failed run), and
`tests/measure/test_codecarbon_internals.py` fails when the installed CodeCarbon changes any of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class HardwarePart:
    """One part CodeCarbon tracks: 'CPU', 'RAM' or 'GPU', and for a CPU its probe mode and TDP."""

    kind: str
    mode: str | None = None
    tdp_w: float | None = None


def energy_so_far_kwh(tracker: Any) -> float | None:
    """Energy a running tracker has added up so far (its public figures come only when it stops)."""
    total = getattr(tracker, "_total_energy", None)
    return float(total.kWh) if total is not None else None


def hardware_parts(tracker: Any) -> list[HardwarePart]:
    """The parts a tracker measures and, for the CPU, whether a counter or a power model reads it."""
    parts = []
    for hardware in getattr(tracker, "_hardware", []):
        kind = type(hardware).__name__
        if kind == "CPU":
            parts.append(HardwarePart(kind, getattr(hardware, "_mode", "unknown"), getattr(hardware, "_tdp", None)))
        else:
            parts.append(HardwarePart(kind))
    return parts


def emissions_kg_per_kwh(energy_mix: dict[str, Any]) -> float:
    """CodeCarbon's own rule for a country's grid mix (its `global_energy_mix` entry)."""
    from codecarbon.core.emissions import Emissions

    return float(Emissions._global_energy_mix_to_emissions_rate(energy_mix).kgs_per_kWh)
