import sys
from types import SimpleNamespace

import pytest
import torch

from efficiency.measure import energy
from efficiency.measure.codecarbon_internals import HardwarePart
from efficiency.measure.energy import EnergyMeter, describe_method
from tests.device_fakes import FakeBoard, fake_pynvml

DATA = SimpleNamespace(cpu_model="Test CPU", codecarbon_version="3.3.2", cpu_count=2, ram_power=20.0, gpu_model="")


def test_power_model_is_labelled_an_estimate():
    provenance, details = describe_method([HardwarePart("CPU", "cpu_load", 8), HardwarePart("RAM")], DATA)
    assert provenance.kind == "estimated"
    assert "no RAPL" in provenance.method and "TDP 8 W" in provenance.method
    assert details["cpu_mode"] == "cpu_load"


def test_rapl_counter_alone_is_measured():
    provenance, _ = describe_method([HardwarePart("CPU", "intel_rapl")], DATA)
    assert provenance.kind == "measured" and "intel_rapl counter" in provenance.method


def test_codecarbon_measures_a_real_interval():
    meter = EnergyMeter(torch.device("cpu"), measure_power_secs=1)
    meter.start()
    sum(i * i for i in range(2_000_000))
    reading = meter.stop()
    assert reading.energy_kwh is not None and reading.energy_kwh > 0
    assert reading.cpu_energy_kwh + reading.ram_energy_kwh == pytest.approx(reading.energy_kwh, rel=1e-6)
    assert reading.provenance.method.startswith("CodeCarbon")


def test_disabled_meter_reports_nothing():
    meter = EnergyMeter(torch.device("cpu"), enabled=False)
    meter.start()
    assert meter.stop().energy_kwh is None


class Clock:
    """The energy module's clock, advanced by its own sleeps and by the test: NVML readings without waiting."""

    def __init__(self) -> None:
        self.now_s = 100.0

    def perf_counter(self) -> float:
        return self.now_s

    def sleep(self, seconds: float) -> None:
        self.now_s += seconds


@pytest.fixture
def board(monkeypatch):
    """A fake board on a fake clock, idling at 70 W, its counter moving every 0.1 s."""
    clock = Clock()
    board = FakeBoard(clock=clock.perf_counter, power_w=70.0, update_s=0.1)
    monkeypatch.setitem(sys.modules, "pynvml", fake_pynvml(board))
    monkeypatch.setattr(energy, "time", clock)
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda index=None: SimpleNamespace(uuid="fake-0"))
    board.sleep = clock.sleep
    return board


def run_on(board, run_s: float, power_w: float = 300.0) -> energy.NvmlReading | None:
    counter = energy.NvmlEnergyCounter(torch.device("cuda", 0), idle_window_s=2.0)
    counter.start()
    board.draw(power_w)
    board.sleep(run_s)
    return counter.stop()


def test_idle_power_is_measured_and_subtracted_from_the_boards_total(board):
    reading = run_on(board, 10.0)
    assert reading.idle_power_w == pytest.approx(70.0, rel=0.01)
    assert reading.idle_window_s == 2.0 and reading.duration_s == pytest.approx(10.0)
    assert reading.update_period_s == pytest.approx(0.1, abs=0.006)
    assert reading.total_kwh * 3.6e6 == pytest.approx(300 * 10, rel=0.02)  # the whole board, idle draw included
    assert reading.attributable_kwh * 3.6e6 == pytest.approx((300 - 70) * 10, rel=0.02)
    assert reading.notes == []


def test_a_run_shorter_than_the_counters_update_period_is_flagged(board):
    reading = run_on(board, 0.05)
    assert reading.notes == [
        "The run lasted 0.05 s, shorter than the counter's update period of about 0.10 s: the figure is coarse."
    ]


def test_a_board_in_mig_mode_or_shared_with_another_process_cannot_be_separated(board):
    board.mig_mode = 1
    board.processes.append(SimpleNamespace(pid=1, usedGpuMemory=0))
    notes = run_on(board, 10.0).notes
    assert len(notes) == 2
    assert notes[0].startswith("MIG is on") and "cannot be separated" in notes[0]
    assert notes[1].startswith("2 processes were on the GPU") and "cannot be separated" in notes[1]


def test_a_mig_instance_is_found_on_its_board_whose_counter_it_shares(board, monkeypatch):
    nvml = sys.modules["pynvml"]
    board.mig_mode = 1
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda index=None: SimpleNamespace(uuid="mig-7"))
    nvml.nvmlDeviceGetMaxMigDeviceCount = lambda handle: 2
    nvml.nvmlDeviceGetMigDeviceHandleByIndex = lambda handle, i: f"{handle}/mig-{i + 6}"
    nvml.nvmlDeviceGetUUID = lambda handle: "MIG-mig-7" if handle.endswith("mig-7") else "GPU-fake-0"
    reading = run_on(board, 10.0)
    assert reading.total_kwh * 3.6e6 == pytest.approx(3000, rel=0.02)
    assert [note[:10] for note in reading.notes] == ["MIG is on:"]


def test_a_second_process_that_arrives_during_the_run_is_seen_at_stop(board):
    counter = energy.NvmlEnergyCounter(torch.device("cuda", 0), idle_window_s=2.0)
    counter.start()
    board.processes.append(SimpleNamespace(pid=1, usedGpuMemory=0))
    board.sleep(1.0)
    assert any(note.startswith("2 processes") for note in counter.stop().notes)


def test_an_nvml_without_the_sharing_calls_skips_those_checks(board):
    nvml = sys.modules["pynvml"]
    del nvml.nvmlDeviceGetComputeRunningProcesses

    def not_supported(handle):
        raise RuntimeError("NVML_ERROR_NOT_SUPPORTED")

    nvml.nvmlDeviceGetMigMode = not_supported
    reading = run_on(board, 10.0)
    assert reading.notes == [] and reading.attributable_kwh * 3.6e6 == pytest.approx(2300, rel=0.02)


def test_a_counter_too_slow_for_the_idle_window_leaves_the_total_alone(board):
    board.update_s = 5.0  # fewer than two changes in the 2 s window
    reading = run_on(board, 20.0)
    assert reading.total_kwh * 3.6e6 == pytest.approx(300 * 20, rel=0.3)
    assert reading.idle_power_w is None and reading.attributable_kwh is None
    assert reading.notes[0].startswith("No figure attributable to the run: the counter changed fewer than twice")


def test_a_failing_counter_costs_nothing_but_its_figure(board):
    counter = energy.NvmlEnergyCounter(torch.device("cuda", 0), idle_window_s=2.0)
    counter.start()

    def gone(handle):
        raise RuntimeError("NVML_ERROR_GPU_IS_LOST")

    sys.modules["pynvml"].nvmlDeviceGetTotalEnergyConsumption = gone
    assert counter.stop() is None


def test_the_meter_reports_the_boards_total_and_the_runs_share(board, monkeypatch):
    monkeypatch.setattr(energy, "_make_tracker", lambda secs: (_ for _ in ()).throw(RuntimeError("no CodeCarbon")))
    meter = EnergyMeter(torch.device("cpu"))
    meter._nvml = energy.NvmlEnergyCounter(torch.device("cuda", 0), idle_window_s=2.0)
    meter.start()
    board.draw(300.0)
    board.sleep(10.0)
    reading = meter.stop()
    assert reading.energy_kwh is None and "no CodeCarbon" in reading.provenance.method
    assert reading.nvml_gpu_energy_kwh * 3.6e6 == pytest.approx(3000, rel=0.02)
    assert reading.nvml_attributable_kwh * 3.6e6 == pytest.approx(2300, rel=0.02)
    assert reading.nvml_idle_power_w == pytest.approx(70, rel=0.01) and reading.nvml_idle_window_s == 2.0
    assert reading.nvml_duration_s == pytest.approx(10.0) and reading.nvml_notes == []
