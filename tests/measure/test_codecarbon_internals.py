"""CodeCarbon's private attributes that we read: these fail when the installed version changes them."""

import pytest

from efficiency.measure import codecarbon_internals
from efficiency.measure.energy import _make_tracker


@pytest.fixture(scope="module")
def tracker():
    running = _make_tracker(measure_power_secs=1.0)
    running.start()  # CodeCarbon finds the hardware when it starts
    yield running
    running.stop()


def test_a_tracker_keeps_its_running_total(tracker):
    assert hasattr(tracker, "_total_energy"), "CodeCarbon renamed _total_energy: update codecarbon_internals"
    so_far = codecarbon_internals.energy_so_far_kwh(tracker)
    assert isinstance(so_far, float) and so_far >= 0.0


def test_a_tracker_names_its_cpu_probe_and_tdp(tracker):
    assert hasattr(tracker, "_hardware"), "CodeCarbon renamed _hardware: update codecarbon_internals"
    cpus = [h for h in tracker._hardware if type(h).__name__ == "CPU"]
    assert cpus, "CodeCarbon's hardware list has no class named CPU any more"
    assert hasattr(cpus[0], "_mode") and hasattr(cpus[0], "_tdp")
    parts = codecarbon_internals.hardware_parts(tracker)
    cpu = next(p for p in parts if p.kind == "CPU")
    assert isinstance(cpu.mode, str) and cpu.mode != "unknown"
    assert {p.kind for p in parts} >= {"CPU", "RAM"}


def test_the_grid_mix_rule_prices_a_country():
    from efficiency.measure.carbon import _energy_mix

    france, poland = (codecarbon_internals.emissions_kg_per_kwh(_energy_mix()[c]) for c in ("FRA", "POL"))
    assert 0 < france < poland < 2  # nuclear France against coal Poland, in kg CO2eq per kWh
