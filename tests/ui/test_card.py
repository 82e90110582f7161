"""The result card's GPU board energy: the NVML total and the run's share, each labelled, and the notes."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest


def _board(metrics: dict) -> None:
    from efficiency.ui.card import gpu_board_energy

    gpu_board_energy(metrics)


def captions(metrics: dict) -> list[str]:
    at = AppTest.from_function(_board, args=(metrics,), default_timeout=60).run()
    assert not at.exception, at.exception
    return [c.value for c in at.caption]


def test_the_total_and_the_runs_share_are_shown_each_labelled_with_the_notes():
    shown = captions({"nvml_gpu_energy_kwh": 5e-4, "nvml_attributable_kwh": 4e-4, "nvml_idle_power_w": 119.4,
                      "nvml_notes": ["MIG is on: the counter covers the whole board."]})  # fmt: skip
    assert shown == [
        r"GPU board \(NVML\)\: 0\.5 Wh in all \(measured\, the whole board\)\; 0\.4 Wh attributable to the run "
        r"\(estimated\: less its 119 W idle draw\)\.",
        r"MIG is on\: the counter covers the whole board\.",
    ]


def test_without_the_idle_power_only_the_total_is_shown_and_without_a_board_nothing():
    assert captions({"nvml_gpu_energy_kwh": 5e-4, "nvml_attributable_kwh": None, "nvml_notes": []}) == [
        r"GPU board \(NVML\)\: 0\.5 Wh in all \(measured\, the whole board\)\."
    ]
    assert captions({"energy_kwh": 1e-3}) == []
