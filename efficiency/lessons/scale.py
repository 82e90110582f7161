"""What a measured run would cost at scale: an estimate from its own cost per FLOP and the 6·N·D rule.

Training FLOPs grow with the parameters N times the training tokens D (about 6·N·D, Kaplan et al. 2020).
A run's counted FLOPs, time and energy give its cost per FLOP on this device; a larger model or
dataset is priced by scaling the FLOPs by N'/N and D'/D. An estimate: it assumes the same device,
the same FLOPs per second and the same power, which a larger model on other hardware would not keep.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from efficiency.errors import EfficiencyError
from efficiency.measure.carbon import co2_kg, intensity_g_per_kwh

METHOD = (
    "estimate: the run's measured time and energy per counted training FLOP, times its FLOPs scaled by "
    "N'/N (parameters) and D'/D (training tokens), after the 6·N·D rule (Kaplan et al. 2020); assumes this "
    "device's FLOPs per second and power"
)


@dataclass(frozen=True)
class ScaledCost:
    params: float  # N'
    data_factor: float  # D'/D
    train_flops: float
    train_wall_s: float
    energy_kwh: float
    co2_kg: float
    country: str
    carbon_source: str
    method: str = METHOD


def scale_cost(metrics: dict[str, Any], params: float | None = None, data_factor: float = 1.0,
               country: str = "WORLD") -> ScaledCost:  # fmt: skip
    """The run's training cost for `params` parameters (default: its own) on `data_factor` times its data."""
    flops, wall_s, energy, own = (metrics.get(k) for k in ("train_flops", "train_wall_s", "energy_kwh", "total_params"))
    if not (flops and wall_s and energy and own):
        raise EfficiencyError(
            "This run lacks the counted FLOPs, the training time, the energy or the parameter count needed to "
            "scale it: choose a finished run that measured all four (FLOPs and energy on)."
        )
    if data_factor <= 0 or (params is not None and params <= 0):
        raise EfficiencyError("Scale by a positive number of parameters and a positive data factor.")
    ratio = (params or own) / own * data_factor
    scaled_energy = energy * ratio
    intensity_source = intensity_g_per_kwh(country)[1]
    return ScaledCost(
        params=float(params or own),
        data_factor=data_factor,
        train_flops=flops * ratio,
        train_wall_s=wall_s * ratio,
        energy_kwh=scaled_energy,
        co2_kg=co2_kg(scaled_energy, country),
        country=country,
        carbon_source=intensity_source,
    )
