"""The measurement sheet: the figures every recipe stores, each with its provenance, written once.

A recipe puts its own figures (`put`) and hands the sheet what both recipes share: the test
predictions (accuracy, macro-F1, confusion matrix, misclassified examples), the energy reading
(energy, CO2 at the run's country), and a batch runner to time (latency at batch 1 and 32).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sklearn.metrics import accuracy_score, confusion_matrix, f1_score

from efficiency.measure import Kind, Provenance, latency
from efficiency.measure.carbon import co2_kg, intensity_g_per_kwh
from efficiency.measure.energy import EnergyReading, NvmlEnergyCounter

LATENCY_EXAMPLES = 32
LATENCY_KEYS = ((1, "latency_ms_b1"), (LATENCY_EXAMPLES, "latency_ms_b32"))
MISCLASSIFIED_SHOWN = 12
MISCLASSIFIED_CHARS = 300


class Sheet:
    """A run's metrics and the provenance of each figure that has one."""

    def __init__(self) -> None:
        self.metrics: dict[str, Any] = {}
        self.provenance: dict[str, dict[str, str]] = {}

    def put(self, key: str, value: Any, kind: Kind | None = None, method: str | None = None) -> None:
        self.metrics[key] = value
        if kind is not None:
            self.provenance[key] = Provenance(kind, method or "").to_dict()

    def record(self) -> dict[str, Any]:
        """The metrics as stored: the figures plus their provenance."""
        return {**self.metrics, "provenance": self.provenance}

    def test_predictions(
        self, texts: Sequence[str], labels: Sequence[int], predictions: Sequence[int], names: Sequence[str], where: str
    ) -> None:
        """Accuracy, macro-F1, confusion matrix and the first misclassified examples of the test split."""
        classes = list(range(len(names)))
        self.put("accuracy", float(accuracy_score(labels, predictions)), "measured",
                 f"scikit-learn accuracy_score on the test split{where}")  # fmt: skip
        macro_f1 = f1_score(labels, predictions, average="macro", labels=classes, zero_division=0)
        self.put("macro_f1", float(macro_f1), "measured", "scikit-learn f1_score(average='macro') on the test split")
        self.put("label_names", list(names))
        self.put("confusion_matrix", confusion_matrix(labels, predictions, labels=classes).tolist())
        wrong = [i for i, (y, p) in enumerate(zip(labels, predictions, strict=True)) if y != p]
        self.put("misclassified", [
            {"text": texts[i][:MISCLASSIFIED_CHARS], "label": names[labels[i]], "predicted": names[predictions[i]]}
            for i in wrong[:MISCLASSIFIED_SHOWN]
        ])  # fmt: skip

    def energy(self, reading: EnergyReading, country: str) -> None:
        """Energy by CodeCarbon's method (and the GPU's own counter), priced in CO2 at `country`'s intensity."""
        kind, method = reading.provenance.kind, reading.provenance.method
        self.put("energy_kwh", reading.energy_kwh, kind, method)
        self.put("energy_method", method)
        self.put("energy_kind", kind)
        self.put("cpu_energy_kwh", reading.cpu_energy_kwh)
        self.put("ram_energy_kwh", reading.ram_energy_kwh)
        self.put("gpu_energy_kwh", reading.gpu_energy_kwh)
        if reading.nvml_gpu_energy_kwh is not None:
            self.nvml(reading)
        try:
            intensity, source = intensity_g_per_kwh(country)
        except ImportError as exc:  # a bare GPU image without CodeCarbon: the energy stands, unpriced
            intensity, source = None, f"not priced: {exc.name or 'codecarbon'} (the grid data) is not installed"
        self.put("country", country)
        self.put("carbon_intensity_g_per_kwh", intensity, "estimated", source)
        if intensity is None:
            self.put("co2_kg", None, "estimated", source)
        elif reading.energy_kwh is None:
            self.put("co2_kg", None, "estimated", "no energy figure to price")
        else:
            self.put("co2_kg", co2_kg(reading.energy_kwh, country), "estimated",
                     f"energy ({kind}) x {intensity:.0f} g CO2eq/kWh, {source}")  # fmt: skip

    def nvml(self, reading: EnergyReading) -> None:
        """The board's total, its idle power, the share attributable to the run, and the notes on both."""
        self.put("nvml_gpu_energy_kwh", reading.nvml_gpu_energy_kwh, "measured", NvmlEnergyCounter.METHOD)
        window = f"{reading.nvml_idle_window_s:g} s" if reading.nvml_idle_window_s is not None else "a window"
        if reading.nvml_idle_power_w is not None:
            self.put("nvml_idle_power_w", reading.nvml_idle_power_w, "measured",
                     f"NVML total-energy counter of the idle board over {window} just before the run: "
                     "its rise divided by the time")  # fmt: skip
        if reading.nvml_attributable_kwh is None:
            why = reading.nvml_notes[0] if reading.nvml_notes else "the board's idle power was not measured"
            self.put("nvml_attributable_kwh", None, "estimated", why)
        else:
            duration = f" ({reading.nvml_duration_s:.1f} s)" if reading.nvml_duration_s is not None else ""
            self.put("nvml_attributable_kwh", reading.nvml_attributable_kwh, "estimated",
                     f"NVML total minus the board's idle power (measured for {window} before the run) times the "
                     f"run's duration{duration}")  # fmt: skip
        self.put("nvml_notes", list(reading.nvml_notes))

    def latency(self, run_batch: Callable[[list[int]], None], examples: int, repeats: int,
                sync: Callable[[], None] = lambda: None) -> None:  # fmt: skip
        """Inference time per example at batch 1 and 32 on the first test examples."""
        figures, method = latency_figures(run_batch, examples, repeats, sync)
        for key, value in figures.items():
            self.put(key, value, "measured", method)


def latency_figures(
    run_batch: Callable[[list[int]], None], examples: int, repeats: int, sync: Callable[[], None] = lambda: None
) -> tuple[dict[str, float], str]:
    """Milliseconds per example at batch 1 and 32 over the first `examples` (at most 32), and the method."""
    indices = list(range(min(LATENCY_EXAMPLES, examples)))
    method = latency.METHOD.format(n=len(indices), warmup=1, repeats=repeats)
    figures = {
        key: latency.time_per_example_ms(run_batch, indices, batch_size, repeats, warmup=1, sync=sync)
        for batch_size, key in LATENCY_KEYS
    }
    return figures, method
