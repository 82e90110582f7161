"""What a lesson's runs cost, in terms a student knows: everyday things, other countries' grids, and at scale.

The energy and CO2 are the runs' own (measured or estimated as each run says); the everyday things are
fixed conversions, each with its source or its arithmetic, so a student can check every one of them.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from efficiency.lessons.scale import ScaledCost, scale_cost
from efficiency.measure.carbon import WORLD, co2_kg, intensity_g_per_kwh

PHONE_BATTERY_KWH = 3.095 * 3.83 / 1000  # 3,095 mAh at 3.83 V
WATER_BOILED_KWH = 4.186 * 80 / 3600  # 1 kg of water, 20 to 100 °C, at 4.186 kJ per kg and kelvin
LED_BULB_KWH = 10 / 1000 / 60  # a 10 W bulb for a minute
WEB_SEARCH_KWH = 0.0003
STREAMING_HOUR_KWH = 0.077
CAR_CO2_KG_PER_M = 0.400 / 1609.344  # 400 g a mile
CAR = "metres driven in a typical car"
SCALE_PARAMS_M = 1_000.0  # the page's and the CLI's default: a billion parameters...
SCALE_DATA_FACTOR = 1_000.0  # ...on a thousand times the run's data


@dataclass(frozen=True)
class Everyday:
    """One everyday thing: how much energy (or CO2) one of it takes, and where that figure comes from."""

    what: str  # plural, after a count: "full phone charges"
    energy_kwh: float | None  # per one; None when it is priced by CO2
    co2_kg: float | None  # per one, for a thing compared by its CO2
    source: str
    phrase: str = "{n} {what}"  # in a sentence

    def count(self, energy_kwh: float, co2: float) -> float:
        return energy_kwh / self.energy_kwh if self.energy_kwh else co2 / (self.co2_kg or 1.0)


EVERYDAY = (
    Everyday("web searches", WEB_SEARCH_KWH, None,
             "Google (2009), 'Powering a Google search': about 0.0003 kWh a search"),
    Everyday("full phone charges", PHONE_BATTERY_KWH, None,
             "arithmetic: a 3,095 mAh battery at 3.83 V (an iPhone 13 Pro) holds 11.9 Wh; charger losses left out"),
    Everyday("minutes of a 10 W LED bulb", LED_BULB_KWH, None, "arithmetic: 10 W for a minute is 0.000167 kWh"),
    Everyday("litres of water boiled", WATER_BOILED_KWH, None,
             "physics: 4.186 kJ per kg and kelvin from 20 to 100 °C is 0.093 kWh; a kettle's losses left out",
             "boiling {n} litres of water"),
    Everyday("hours of streaming video", STREAMING_HOUR_KWH, None,
             "IEA (2020), 'The carbon footprint of streaming video: fact-checking the headlines': 0.077 kWh an hour"),
    Everyday(CAR, None, CAR_CO2_KG_PER_M,
             "US EPA (2023), 'Greenhouse gas emissions from a typical passenger vehicle': about 400 g CO₂ a mile",
             "driving a typical car {n} metres"),
)  # fmt: skip


@dataclass(frozen=True)
class Equivalent:
    what: str
    count: float
    source: str
    phrase: str = "{n} {what}"

    def words(self) -> str:
        return self.phrase.format(n=_count(self.count), what=self.what)


def everyday(energy_kwh: float, country: str = WORLD) -> list[Equivalent]:
    """The energy as each everyday thing (the car by the CO2 of this energy on `country`'s grid)."""
    co2 = co2_kg(energy_kwh, country)
    return [Equivalent(t.what, t.count(energy_kwh, co2), t.source, t.phrase) for t in EVERYDAY]


def in_words(energy_kwh: float, country: str = WORLD) -> str:
    """'0.48 Wh and 0.23 g CO₂eq on the world average grid: about 1.6 web searches or 0.048 hours of ...'.

    All the everyday things would bury the reader in tiny numbers: the two energy ones whose counts read
    best (nearest ten) and the car, whose CO2 changes with the grid.
    """
    co2 = co2_kg(energy_kwh, country)
    where = "the world average grid" if country == WORLD else f"{country}'s grid"
    things = everyday(energy_kwh, country)
    by_energy = sorted((e for e in things if e.what != CAR), key=lambda e: abs(math.log10(max(e.count, 1e-12)) - 1))
    car = next(e for e in things if e.what == CAR)
    return (
        f"{_human(energy_kwh * 1000)} Wh and {_human(co2 * 1000)} g CO₂eq on {where}: as much energy as "
        f"{by_energy[0].words()} or {by_energy[1].words()}; the CO₂ of {car.words()}"
    )


@dataclass(frozen=True)
class RunCost:
    run: str  # the lesson run's id
    label: str
    energy_kwh: float  # the mean over its finished seeds
    co2_kg: float
    equivalents: list[Equivalent]
    words: str


@dataclass(frozen=True)
class LessonCost:
    country: str
    carbon_source: str
    runs: list[RunCost]
    scaled: ScaledCost | None  # the costliest run at `data_factor` times its data, when it measured all it needs
    scaled_run: str | None
    scaled_error: str | None = None

    def text(self) -> str:
        """As `lesson run` prints it."""
        lines = [f"What these runs cost (CO2eq at {self.carbon_source}):"]
        lines += [f"- {r.label}: {r.words}." for r in self.runs]
        lines += [f"  ({e.what}: {e.source})" for e in self.runs[0].equivalents]
        if self.scaled is not None:
            s = self.scaled
            lines.append(
                f"At scale ({self.scaled_run}, {s.params / 1e6:,.0f}M parameters on {s.data_factor:,g} times the data): "
                f"about {duration_words(s.train_wall_s)}, {s.energy_kwh:,.3g} kWh, {s.co2_kg:,.3g} kg CO2eq; {s.method}."
            )
        elif self.scaled_error:
            lines.append(f"At scale: {self.scaled_error}")
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        """The `cost` object of `lesson run --json`."""
        scaled = None
        if self.scaled is not None:
            scaled = {"run": self.scaled_run, **dataclasses.asdict(self.scaled)}
        runs = {}
        for r in self.runs:
            things = [{"what": e.what, "count": e.count, "source": e.source} for e in r.equivalents]
            runs[r.run] = {"energy_kwh": r.energy_kwh, "co2_kg": r.co2_kg, "words": r.words, "everyday": things}
        return {
            "country": self.country,
            "carbon_source": self.carbon_source,
            "runs": runs,
            "scaled": scaled,
            "scaled_error": self.scaled_error,
        }


def about_cost(lesson: Any) -> bool:
    """A lesson whose checks are about energy or CO2 shows what its runs cost."""
    return any(check.metric in ("energy_kwh", "co2_kg") for check in lesson.checks)


def lesson_cost(result: Any, country: str = WORLD, params: float | None = None,
                data_factor: float = 1000.0) -> LessonCost | None:  # fmt: skip
    """The energy and CO2 of each lesson run that measured energy (None when none did), and the costliest at scale.

    `result` is a LessonResult; its means over seeds are the figures priced here.
    """
    from efficiency.errors import EfficiencyError

    labels = {run.id: run.label for run in result.lesson.runs}
    runs = []
    for run_id, figures in result.figures.items():
        energy = figures.get("energy_kwh")
        if energy is None or not energy.mean:
            continue
        runs.append(RunCost(run_id, labels[run_id], energy.mean, co2_kg(energy.mean, country),
                            everyday(energy.mean, country), in_words(energy.mean, country)))  # fmt: skip
    if not runs:
        return None
    costliest = max(runs, key=lambda r: r.energy_kwh).run
    means = {key: stats.mean for key, stats in result.figures[costliest].items()}
    scaled, error = None, None
    try:
        scaled = scale_cost(means, params=params, data_factor=data_factor, country=country)
    except EfficiencyError as exc:
        error = str(exc)
    return LessonCost(country, intensity_g_per_kwh(country)[1], runs, scaled, costliest, error)


def duration_words(seconds: float) -> str:
    """'40 s', '12 minutes', '5.2 hours', '3.1 days', '4.6 years': a scaled run's time at a glance."""
    for unit, size in (("years", 365.25 * 86400), ("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= 2 * size:
            return f"{_human(seconds / size)} {unit}"
    return f"{seconds:.0f} s"


def _count(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 1:
        return f"{value:.1f}".removesuffix(".0")
    if value >= 0.001:
        return f"{value:.2g}"
    return "under 0.001"


def _human(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"
