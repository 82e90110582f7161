"""Energy: CodeCarbon's offline tracker for the machine, and on CUDA the GPU's own NVML counter.

CodeCarbon reads a hardware counter where it can (RAPL on Intel/AMD Linux, NVML on NVIDIA
GPUs) and falls back to a power model otherwise (CPU TDP x load, or a constant; RAM a
constant). We keep which it used, so the app can say "measured" or "estimated". On a machine
without RAPL the CPU figure is a restatement of wall time: power model x seconds.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field
from typing import Any

import torch

from efficiency.measure import Provenance, codecarbon_internals
from efficiency.measure.codecarbon_internals import HardwarePart

COUNTER_MODES = {"intel_rapl", "rapl", "powermetrics", "intel_power_gadget", "windows_emi"}


@dataclass
class EnergyReading:
    energy_kwh: float | None = None
    cpu_energy_kwh: float | None = None
    ram_energy_kwh: float | None = None
    gpu_energy_kwh: float | None = None  # CodeCarbon's GPU share
    nvml_gpu_energy_kwh: float | None = None  # the GPU's own counter, when on CUDA
    provenance: Provenance = field(default_factory=lambda: Provenance("estimated", "not measured"))
    details: dict[str, object] = field(default_factory=dict)


class EnergyMeter:
    """Start before the work, stop after; `so_far_kwh()` for live display."""

    def __init__(self, device: torch.device, enabled: bool = True, measure_power_secs: float = 2.0) -> None:
        self.device = device
        self.enabled = enabled
        self.measure_power_secs = measure_power_secs
        self._tracker = None
        self._nvml = NvmlEnergyCounter(device) if device.type == "cuda" else None
        self.error: str | None = None

    def start(self) -> None:
        if not self.enabled:
            return
        try:
            self._tracker = _make_tracker(self.measure_power_secs)
            self._tracker.start()
        except Exception as exc:  # energy must never cost the run; say why it is missing instead
            self._tracker, self.error = None, f"CodeCarbon could not start: {exc}"
        if self._nvml is not None:
            self._nvml.start()

    def so_far_kwh(self) -> float | None:
        return codecarbon_internals.energy_so_far_kwh(self._tracker)

    def stop(self) -> EnergyReading:
        reading = EnergyReading()
        if self._nvml is not None:
            reading.nvml_gpu_energy_kwh = self._nvml.stop()
        if self._tracker is None:
            if self.error:
                reading.provenance = Provenance("estimated", self.error)
            return reading
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self._tracker.stop()
        data = self._tracker.final_emissions_data
        reading.energy_kwh = float(data.energy_consumed)
        reading.cpu_energy_kwh = float(data.cpu_energy)
        reading.ram_energy_kwh = float(data.ram_energy)
        reading.gpu_energy_kwh = float(data.gpu_energy) if data.gpu_count else None
        reading.provenance, reading.details = describe_method(codecarbon_internals.hardware_parts(self._tracker), data)
        return reading


def _make_tracker(measure_power_secs: float):
    from codecarbon import OfflineEmissionsTracker

    logging.getLogger("codecarbon").setLevel(logging.ERROR)
    # The country only sets CodeCarbon's own CO2 figure, which we do not use: CO2 is priced in
    # efficiency.measure.carbon from the energy, so that it can be re-priced for any country.
    return OfflineEmissionsTracker(
        country_iso_code="USA",
        save_to_file=False,
        log_level="error",
        measure_power_secs=measure_power_secs,
        tracking_mode="machine",
        allow_multiple_runs=True,
    )


def describe_method(parts: list[HardwarePart], data: Any) -> tuple[Provenance, dict[str, object]]:
    """Turn what CodeCarbon used into a provenance: measured only when every part read a counter."""
    said: list[str] = []
    counters = True
    details: dict[str, object] = {"cpu_model": data.cpu_model, "codecarbon_version": data.codecarbon_version}
    for part in parts:
        kind = part.kind
        if kind == "CPU":
            mode, tdp = part.mode, part.tdp_w
            details["cpu_mode"], details["cpu_tdp_w"] = mode, tdp
            if mode in COUNTER_MODES:
                said.append(f"CPU: {mode} counter")
            else:
                counters = False
                said.append(
                    f"CPU: power model ({mode}, TDP {tdp} W for {data.cpu_count} threads x load; no RAPL counter)"
                )
        elif kind == "RAM":
            counters = False
            details["ram_power_w"] = data.ram_power
            said.append(f"RAM: constant {data.ram_power:.0f} W model")
        elif kind == "GPU":
            said.append(f"GPU: NVML counter ({data.gpu_model})")
    method = "CodeCarbon " + data.codecarbon_version + ": " + "; ".join(said)
    return Provenance("measured" if counters else "estimated", method), details


class NvmlEnergyCounter:
    """The GPU's total-energy counter (millijoules since driver load), read before and after."""

    METHOD = "NVML total-energy counter of the GPU board in use (the whole board: other processes on it count too)"

    def __init__(self, device: torch.device) -> None:
        self.index = device.index if device.index is not None else torch.cuda.current_device()
        self._start_mj: int | None = None
        self._handle = None

    def start(self) -> None:
        try:
            import pynvml

            pynvml.nvmlInit()
            # torch's index follows CUDA_VISIBLE_DEVICES, NVML's does not: find the board by its UUID.
            uuid = str(torch.cuda.get_device_properties(self.index).uuid)
            self._handle = next(
                handle
                for handle in map(pynvml.nvmlDeviceGetHandleByIndex, range(pynvml.nvmlDeviceGetCount()))
                if uuid in str(pynvml.nvmlDeviceGetUUID(handle))
            )
            self._start_mj = pynvml.nvmlDeviceGetTotalEnergyConsumption(self._handle)
        except Exception:  # older GPUs lack the counter; CodeCarbon's figure remains
            self._handle = None

    def stop(self) -> float | None:
        if self._handle is None or self._start_mj is None:
            return None
        import pynvml

        end_mj = pynvml.nvmlDeviceGetTotalEnergyConsumption(self._handle)
        return (end_mj - self._start_mj) / 3.6e9  # mJ -> kWh
