"""One catalogue of the figures a run reports: name, unit, display scale, format and chart axis.

The result card, Compare's axes and table, the CLI and the CSV export all read `FIGURES`, so a new
figure is one row here. Free of torch and Streamlit: the CLI and the tests import it cheaply.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

Kind = Literal["measured", "counted", "estimated"]

SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def scientific(value: float) -> str:
    """5.5 × 10¹² for large counts such as FLOPs: read aloud more easily than 5.5e+12."""
    if value == 0 or abs(value) < 1e4:
        return f"{value:,.0f}"
    mantissa, exponent = f"{value:.1e}".split("e")
    return f"{float(mantissa):g} × 10{str(int(exponent)).translate(SUPERSCRIPT)}"


def in_sentence(title: str) -> str:
    """A title inside a sentence: 'Energy (Wh)' -> 'energy (Wh)'; an acronym ('CO₂eq', 'FLOPs') stays."""
    return title[:1].lower() + title[1:] if title[1:2].islower() else title


def human(value: float) -> str:
    """Two significant digits for small figures, whole numbers with separators for large ones."""
    return f"{value:.2g}" if abs(value) < 100 else f"{value:,.0f}"


@dataclass(frozen=True)
class Figure:
    """One figure of a run, from its stored key to the text and axis a reader sees."""

    key: str  # the metrics key as stored
    label: str  # as the result card names it
    unit: str  # as shown ("Wh"); "" for counts and ratios
    fmt: Callable[[float], str]  # shown value -> text, as on the result card
    kind: Kind  # the provenance it usually has; each run's own provenance says what it had
    quality: bool = False  # higher is better; else a cost, where lower is better
    varies_by_seed: bool = True  # False for what a fixed config determines (parameters, size, counted FLOPs)
    scale: float = 1.0  # shown per stored unit: stored kWh, shown Wh is 1000
    axis_scale: Literal["linear", "log"] = "linear"  # Compare's default: log for figures spanning magnitudes
    axis_range: tuple[float, float] | None = None  # bounds no axis of this figure should leave
    axis_label: str = ""  # a shorter name for an axis, where the card's label reads long
    on_card: bool = True
    on_axis: bool = True  # offered as a Compare axis
    stored_unit: str | None = None  # the stored number's unit where it differs from `unit` (CLI, exports)
    stored_format: str = ".3g"  # format spec of the stored number, as the CLI prints it

    @property
    def axis_title(self) -> str:
        """'Energy (Wh)': the name and the shown unit."""
        name = self.axis_label or self.label
        return f"{name} ({self.unit})" if self.unit else name


# In the result card's order. Energy and CO2 are stored in kWh and kg (exports keep them) and shown
# in Wh and g, the scale of a classroom run (a phone charge is about 15 Wh).
FIGURES: tuple[Figure, ...] = (
    Figure("accuracy", "Accuracy", "", "{:.1%}".format, "measured", quality=True, axis_range=(0.0, 1.0),
           stored_format=".3f"),
    Figure("macro_f1", "Macro-F1", "", "{:.3f}".format, "measured", quality=True, axis_range=(0.0, 1.0),
           stored_format=".3f"),
    Figure("train_wall_s", "Training time", "s", "{:.1f} s".format, "measured", stored_format=".1f"),
    Figure("eval_wall_s", "Evaluation time", "s", "{:.1f} s".format, "measured", on_card=False, on_axis=False,
           stored_format=".1f"),
    Figure("train_flops", "Training FLOPs", "", scientific, "counted", varies_by_seed=False, axis_scale="log",
           stored_unit="FLOPs"),
    # Estimated: CodeCarbon models the RAM as a constant power even where a counter reads the CPU.
    Figure("energy_kwh", "Energy", "Wh", lambda wh: f"{human(wh)} Wh", "estimated", scale=1000.0, axis_scale="log",
           stored_unit="kWh"),
    Figure("co2_kg", "CO₂eq", "g", lambda g: f"{human(g)} g", "estimated", scale=1000.0, axis_scale="log",
           stored_unit="kg CO2eq"),
    Figure("peak_memory_mb", "Peak memory", "MiB", "{:.0f} MiB".format, "measured", stored_format=".0f"),
    Figure("cuda_peak_memory_mb", "GPU peak memory", "MiB", "{:.0f} MiB".format, "measured", stored_format=".0f",
           on_card=False),
    Figure("total_params", "Parameters", "", "{:,}".format, "counted", varies_by_seed=False, on_card=False,
           on_axis=False, stored_format=","),
    Figure("trainable_params", "Trainable parameters", "", "{:,}".format, "counted", varies_by_seed=False,
           axis_scale="log", stored_format=","),
    Figure("model_size_mb", "Model size", "MiB", "{:.1f} MiB".format, "measured", varies_by_seed=False,
           stored_format=".1f"),
    # The card's label says 'per example', so its value reads '3.2 ms'; an axis says it in the unit.
    Figure("latency_ms_b1", "Latency per example, batch 1", "ms/example", "{:.1f} ms".format, "measured",
           axis_label="Latency, batch 1", stored_format=".2f"),
    Figure("latency_ms_b32", "Latency per example, batch 32", "ms/example", "{:.2f} ms".format, "measured",
           axis_label="Latency, batch 32", on_axis=False, stored_format=".2f"),
)  # fmt: skip
BY_KEY: dict[str, Figure] = {f.key: f for f in FIGURES}


def figure(key: str) -> Figure:
    """The catalogue's row for a stored key (KeyError for a key it does not describe)."""
    return BY_KEY[key]


def qualities() -> tuple[Figure, ...]:
    """Compare's quality axes: higher is better."""
    return tuple(f for f in FIGURES if f.on_axis and f.quality)


def costs() -> tuple[Figure, ...]:
    """Compare's cost axes: lower is better."""
    return tuple(f for f in FIGURES if f.on_axis and not f.quality)


def shown(key: str, value: float | None) -> float | None:
    """A stored figure in the unit the app shows it in; keys outside the catalogue pass unchanged."""
    scale = BY_KEY[key].scale if key in BY_KEY else 1.0
    if value is None:
        return None
    # Unscaled figures keep their type: an int parameter count must not print as '1,234.0'.
    return value if scale == 1.0 else value * scale


def text(key: str, value: float | None) -> str:
    """A stored figure as the result card writes it: '0.12 Wh', '81.2%'; '–' when there is none."""
    return "–" if value is None else figure(key).fmt(shown(key, value))
