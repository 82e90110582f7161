import sys

import pytest

from efficiency.measure import Provenance
from efficiency.measure.energy import EnergyReading
from efficiency.runs.sheet import MISCLASSIFIED_SHOWN, Sheet, latency_figures


def test_test_predictions_fill_quality_confusion_and_mistakes_with_provenance():
    sheet = Sheet()
    labels, predictions = [0, 1, 2, 2], [0, 2, 2, 2]
    sheet.test_predictions(["a", "b", "c", "d"], labels, predictions, ["neg", "neu", "pos"], where=", best epoch")
    record = sheet.record()
    assert record["accuracy"] == 0.75
    assert record["macro_f1"] == pytest.approx((1 + 0 + 0.8) / 3)
    assert record["confusion_matrix"] == [[1, 0, 0], [0, 0, 1], [0, 0, 2]]
    assert record["misclassified"] == [{"text": "b", "label": "neu", "predicted": "pos"}]
    assert record["provenance"]["accuracy"] == {
        "kind": "measured",
        "method": "scikit-learn accuracy_score on the test split, best epoch",
    }
    assert "label_names" not in record["provenance"], "plain facts carry no provenance"


def test_only_the_first_mistakes_are_kept():
    sheet = Sheet()
    n = MISCLASSIFIED_SHOWN + 5
    sheet.test_predictions(["x"] * n, [0] * n, [1] * n, ["a", "b"], where="")
    assert len(sheet.metrics["misclassified"]) == MISCLASSIFIED_SHOWN


def test_energy_is_priced_in_co2_at_the_countrys_intensity():
    sheet = Sheet()
    reading = EnergyReading(energy_kwh=0.002, provenance=Provenance("estimated", "power model"))
    sheet.energy(reading, "FRA")
    france = sheet.metrics["co2_kg"]
    sheet.energy(reading, "POL")
    assert 0 < france < sheet.metrics["co2_kg"]
    assert sheet.provenance["energy_kwh"]["kind"] == "estimated"
    sheet.energy(EnergyReading(), "FRA")
    assert sheet.metrics["co2_kg"] is None and sheet.provenance["co2_kg"]["method"] == "no energy figure to price"


def test_without_codecarbons_grid_data_the_energy_stands_unpriced(monkeypatch):
    from efficiency.measure import carbon

    carbon._per_source.cache_clear()
    for name in ("codecarbon", "codecarbon.input"):  # a bare GPU image: CodeCarbon is not installed (an earlier
        monkeypatch.setitem(sys.modules, name, None)  # test's import of the submodule would otherwise be reused)
    sheet = Sheet()
    sheet.energy(EnergyReading(energy_kwh=0.002, nvml_gpu_energy_kwh=0.001), "WORLD")
    carbon._per_source.cache_clear()
    assert sheet.metrics["energy_kwh"] == 0.002 and sheet.metrics["nvml_gpu_energy_kwh"] == 0.001
    assert sheet.metrics["co2_kg"] is None and sheet.metrics["carbon_intensity_g_per_kwh"] is None
    assert (
        "codecarbon" in sheet.provenance["co2_kg"]["method"] and "not installed" in sheet.provenance["co2_kg"]["method"]
    )


def test_the_boards_total_its_idle_power_and_the_runs_share_are_stored_with_their_labels():
    sheet = Sheet()
    reading = EnergyReading(nvml_gpu_energy_kwh=0.002, nvml_attributable_kwh=0.0015, nvml_idle_power_w=70.0,
                            nvml_idle_window_s=2.0, nvml_duration_s=12.34, nvml_notes=["MIG is on: ..."])  # fmt: skip
    sheet.energy(reading, "WORLD")
    record = sheet.record()
    assert (record["nvml_gpu_energy_kwh"], record["nvml_attributable_kwh"]) == (0.002, 0.0015)
    assert record["nvml_idle_power_w"] == 70.0 and record["nvml_notes"] == ["MIG is on: ..."]
    provenance = record["provenance"]
    assert provenance["nvml_gpu_energy_kwh"]["kind"] == "measured"
    assert provenance["nvml_idle_power_w"]["kind"] == "measured" and "2 s" in provenance["nvml_idle_power_w"]["method"]
    assert provenance["nvml_attributable_kwh"] == {
        "kind": "estimated",
        "method": "NVML total minus the board's idle power (measured for 2 s before the run) times the run's "
        "duration (12.3 s)",
    }
    assert "nvml_notes" not in provenance, "plain data"


def test_without_the_idle_power_the_runs_share_is_missing_and_says_why():
    sheet = Sheet()
    why = "No figure attributable to the run: the idle window could not be read (NVMLError)."
    sheet.energy(EnergyReading(nvml_gpu_energy_kwh=0.002, nvml_duration_s=5.0, nvml_notes=[why]), "WORLD")
    assert sheet.metrics["nvml_attributable_kwh"] is None and "nvml_idle_power_w" not in sheet.metrics
    assert sheet.provenance["nvml_attributable_kwh"] == {"kind": "estimated", "method": why}
    sheet = Sheet()
    sheet.energy(EnergyReading(energy_kwh=0.001), "WORLD")
    assert not [key for key in sheet.metrics if key.startswith("nvml")], "no board, no NVML keys"


def test_latency_times_both_batch_sizes():
    seen: list[int] = []
    figures, method = latency_figures(lambda indices: seen.append(len(indices)), examples=40, repeats=2)
    assert set(figures) == {"latency_ms_b1", "latency_ms_b32"} and all(v >= 0 for v in figures.values())
    assert 32 in seen and 1 in seen and "32 test examples" in method
