"""Cost at scale: the 6·N·D extrapolation of a measured run, on a synthetic record."""

from __future__ import annotations

import pytest

from efficiency.errors import EfficiencyError
from efficiency.lessons.scale import scale_cost
from efficiency.measure.carbon import intensity_g_per_kwh

RUN = {"train_flops": 5.5e12, "train_wall_s": 75.0, "energy_kwh": 7e-4, "total_params": 22_714_371}


def test_ten_times_the_parameters_on_a_thousand_times_the_data():
    scaled = scale_cost(RUN, params=227_143_710, data_factor=1000, country="FRA")
    assert scaled.train_flops == pytest.approx(5.5e12 * 10_000)
    assert scaled.train_wall_s == pytest.approx(750_000.0)
    assert scaled.energy_kwh == pytest.approx(7.0)
    assert scaled.co2_kg == pytest.approx(7.0 * intensity_g_per_kwh("FRA")[0] / 1000)
    assert scaled.method.startswith("estimate:") and "6·N·D" in scaled.method


def test_a_run_without_the_figures_says_which_run_to_choose():
    with pytest.raises(EfficiencyError, match="choose a finished run"):
        scale_cost({**RUN, "train_flops": None})
    with pytest.raises(EfficiencyError, match="positive"):
        scale_cost(RUN, data_factor=0)
