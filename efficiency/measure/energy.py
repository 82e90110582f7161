"""Energy: CodeCarbon's offline tracker for the machine, and on CUDA the GPU's own NVML counter.

CodeCarbon reads a hardware counter where it can (RAPL on Intel/AMD Linux, NVML on NVIDIA
GPUs) and falls back to a power model otherwise (CPU TDP x load, or a constant; RAM a
constant). We keep which it used, so the app can say "measured" or "estimated". On a machine
without RAPL the CPU figure is a restatement of wall time: power model x seconds.

NVML's counter covers the whole board, idle draw included: the board's idle power, measured just
before the run, gives the share attributable to the run, and notes say when the figure is coarse
(a run shorter than the counter's update period) or the board was shared (MIG, other processes).
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import statistics
import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import torch

from efficiency.measure import Provenance, codecarbon_internals
from efficiency.measure.codecarbon_internals import HardwarePart

COUNTER_MODES = {"intel_rapl", "rapl", "powermetrics", "intel_power_gadget", "windows_emi"}
J_PER_KWH = 3.6e6
MJ_PER_KWH = 3.6e9  # NVML counts millijoules
IDLE_WINDOW_S = 2.0  # the board's idle power, measured before each CUDA run: long enough for many counter updates
IDLE_POLL_S = 0.005


@dataclass
class EnergyReading:
    energy_kwh: float | None = None
    cpu_energy_kwh: float | None = None
    ram_energy_kwh: float | None = None
    gpu_energy_kwh: float | None = None  # CodeCarbon's GPU share
    nvml_gpu_energy_kwh: float | None = None  # the GPU's own counter, when on CUDA: the whole board's total
    nvml_attributable_kwh: float | None = None  # that total minus the board's idle power x the run's duration
    nvml_idle_power_w: float | None = None
    nvml_idle_window_s: float | None = None
    nvml_duration_s: float | None = None
    nvml_notes: list[str] = field(default_factory=list)  # plain words: a coarse figure, a shared board
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
        if self._nvml is not None:  # first: its idle window must not see CodeCarbon's tracker start
            self._nvml.start()
        try:
            self._tracker = _make_tracker(self.measure_power_secs)
            self._tracker.start()
        except Exception as exc:  # energy must never cost the run; say why it is missing instead
            self._tracker, self.error = None, f"CodeCarbon could not start: {exc}"

    def so_far_kwh(self) -> float | None:
        return codecarbon_internals.energy_so_far_kwh(self._tracker)

    def stop(self) -> EnergyReading:
        reading = EnergyReading()
        nvml = self._nvml.stop() if self._nvml is not None else None
        if nvml is not None:
            reading.nvml_gpu_energy_kwh, reading.nvml_attributable_kwh = nvml.total_kwh, nvml.attributable_kwh
            reading.nvml_idle_power_w, reading.nvml_idle_window_s = nvml.idle_power_w, nvml.idle_window_s
            reading.nvml_duration_s, reading.nvml_notes = nvml.duration_s, nvml.notes
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


@dataclass
class NvmlReading:
    """What the board's counter said about one run: its total, the idle share, and why a figure is coarse."""

    total_kwh: float
    duration_s: float
    idle_power_w: float | None = None
    idle_window_s: float | None = None
    attributable_kwh: float | None = None  # total minus idle power x duration; None when idle was not measured
    update_period_s: float | None = None  # the median interval between the counter's changes while idle
    notes: list[str] = field(default_factory=list)


class NvmlEnergyCounter:
    """The GPU's total-energy counter (millijoules since driver load), read before and after.

    Before the run it polls the idle board for `idle_window_s`: the idle power, and how often the
    counter changes (its update period). Whether the board is shared (MIG, other processes) is
    checked at start and at stop, each check skipped where this NVML cannot answer it.
    """

    METHOD = "NVML total-energy counter of the GPU board in use (the whole board: other processes on it count too)"

    def __init__(self, device: torch.device, idle_window_s: float = IDLE_WINDOW_S) -> None:
        self.index = device.index if device.index is not None else torch.cuda.current_device()
        self.idle_window_s = idle_window_s
        self._handle = None
        self._start_mj: int | None = None
        self._start_s = 0.0
        self._idle: _Idle | None = None
        self._idle_problem = "the idle window was not measured"
        self._mig = False
        self._processes = 0

    def start(self) -> None:
        try:
            import pynvml

            pynvml.nvmlInit()
            self._handle = _board_handle(pynvml, str(torch.cuda.get_device_properties(self.index).uuid))
            self._check_sharing(pynvml)
            try:
                self._idle = _measure_idle(pynvml, self._handle, self.idle_window_s)
            except Exception as exc:  # the total stands without it; say why attributable is missing
                self._idle_problem = f"the idle window could not be read ({type(exc).__name__})"
            if self._idle is not None and self._idle.power_w is None:
                self._idle_problem = (
                    f"the counter changed fewer than twice in the {self.idle_window_s:g} s idle window "
                    "(its update period is longer), so the idle power was not measured"
                )
            self._start_mj = pynvml.nvmlDeviceGetTotalEnergyConsumption(self._handle)
            self._start_s = time.perf_counter()
        except Exception:  # older GPUs lack the counter; CodeCarbon's figure remains
            self._handle = None

    def stop(self) -> NvmlReading | None:
        if self._handle is None or self._start_mj is None:
            return None
        try:
            import pynvml

            end_mj = pynvml.nvmlDeviceGetTotalEnergyConsumption(self._handle)
            duration_s = time.perf_counter() - self._start_s
            self._check_sharing(pynvml)
        except Exception:  # energy must never cost the run
            return None
        reading = NvmlReading(total_kwh=(end_mj - self._start_mj) / MJ_PER_KWH, duration_s=duration_s)
        self._judge(reading)
        return reading

    def _judge(self, reading: NvmlReading) -> None:
        """The idle share, and the notes on what makes the figures coarse or inseparable."""
        idle = self._idle
        if idle is not None:
            reading.idle_window_s, reading.update_period_s = idle.window_s, idle.update_period_s
        if idle is not None and idle.power_w is not None:
            reading.idle_power_w = idle.power_w
            idle_kwh = idle.power_w * reading.duration_s / J_PER_KWH
            reading.attributable_kwh = max(0.0, reading.total_kwh - idle_kwh)
        else:
            reading.notes.append(f"No figure attributable to the run: {self._idle_problem}.")
        if reading.update_period_s is not None and reading.duration_s < reading.update_period_s:
            reading.notes.append(
                f"The run lasted {reading.duration_s:.2f} s, shorter than the counter's update period of about "
                f"{reading.update_period_s:.2f} s: the figure is coarse."
            )
        if self._mig:
            reading.notes.append(
                "MIG is on: the counter covers the whole board, other instances' work included, "
                "so this run's share cannot be separated."
            )
        if self._processes > 1:
            reading.notes.append(
                f"{self._processes} processes were on the GPU: the counter covers them all, "
                "so this run's share cannot be separated."
            )

    def _check_sharing(self, pynvml: Any) -> None:
        """MIG mode and the processes on the board; an NVML that cannot say skips that check."""
        with contextlib.suppress(Exception):
            current, _pending = pynvml.nvmlDeviceGetMigMode(self._handle)
            self._mig = self._mig or current == getattr(pynvml, "NVML_DEVICE_MIG_ENABLE", 1)
        with contextlib.suppress(Exception):
            self._processes = max(self._processes, len(pynvml.nvmlDeviceGetComputeRunningProcesses(self._handle)))


@dataclass
class _Idle:
    window_s: float
    power_w: float | None
    update_period_s: float | None


def _measure_idle(pynvml: Any, handle: Any, window_s: float) -> _Idle:
    """Poll the idle board's counter: power between its first and last change, and the median change interval."""
    read = pynvml.nvmlDeviceGetTotalEnergyConsumption
    last_mj, start_s = read(handle), time.perf_counter()
    changes: list[tuple[float, int]] = []  # (instant, counter) where the counter moved
    while time.perf_counter() - start_s < window_s:
        time.sleep(IDLE_POLL_S)
        value_mj, now_s = read(handle), time.perf_counter()
        if value_mj != last_mj:
            changes.append((now_s, value_mj))
            last_mj = value_mj
    if len(changes) < 2:
        return _Idle(window_s, None, None)
    # From change to change, not over the whole window: a counter that updates every 0.1 s would
    # otherwise be off by up to one update's energy at each end.
    (first_s, first_mj), (last_s, end_mj) = changes[0], changes[-1]
    period_s = statistics.median(b[0] - a[0] for a, b in itertools.pairwise(changes))
    return _Idle(window_s, (end_mj - first_mj) / 1000 / (last_s - first_s), period_s)


def _board_handle(pynvml: Any, uuid: str) -> Any:
    """The NVML board torch's device sits on: by UUID (torch's index follows CUDA_VISIBLE_DEVICES, NVML's does not)."""
    boards = [pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(pynvml.nvmlDeviceGetCount())]
    for board in boards:
        if uuid in str(pynvml.nvmlDeviceGetUUID(board)):
            return board
    # A MIG instance has its own UUID; its board's counter is the one that counts energy.
    for board in boards:
        with contextlib.suppress(Exception):
            for i in range(pynvml.nvmlDeviceGetMaxMigDeviceCount(board)):
                with contextlib.suppress(Exception):
                    if uuid in str(pynvml.nvmlDeviceGetUUID(pynvml.nvmlDeviceGetMigDeviceHandleByIndex(board, i))):
                        return board
    raise LookupError(f"no NVML board has the UUID {uuid}")
