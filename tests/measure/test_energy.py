from types import SimpleNamespace

import torch

from efficiency.measure.codecarbon_internals import HardwarePart
from efficiency.measure.energy import EnergyMeter, describe_method

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
    assert reading.cpu_energy_kwh + reading.ram_energy_kwh == __import__("pytest").approx(reading.energy_kwh, rel=1e-6)
    assert reading.provenance.method.startswith("CodeCarbon")


def test_disabled_meter_reports_nothing():
    meter = EnergyMeter(torch.device("cpu"), enabled=False)
    meter.start()
    assert meter.stop().energy_kwh is None
