"""A lesson's cost in everyday terms, on other grids and at scale: from synthetic run records."""

from __future__ import annotations

import pytest

from efficiency.lessons import evaluate, load_lesson
from efficiency.lessons.catalog import LESSONS_DIR
from efficiency.lessons.cost import EVERYDAY, WATER_BOILED_KWH, everyday, in_words, lesson_cost
from efficiency.measure.carbon import co2_kg

RUN = {"train_flops": 5.5e12, "train_wall_s": 75.0, "energy_kwh": 7e-4, "total_params": 22_714_371}


def test_every_everyday_thing_says_where_its_figure_comes_from():
    assert len(EVERYDAY) >= 5
    for thing in EVERYDAY:
        assert thing.source and (thing.energy_kwh or thing.co2_kg), thing.what
        assert (thing.energy_kwh is None) != (thing.co2_kg is None), "priced by energy or by CO2, not both"


def test_the_counts_are_the_energy_divided_by_each_thing_s_share():
    energy_kwh = 10 * WATER_BOILED_KWH
    counts = {e.what: e.count for e in everyday(energy_kwh, "FRA")}
    assert counts["litres of water boiled"] == pytest.approx(10)
    assert counts["minutes of a 10 W LED bulb"] == pytest.approx(energy_kwh / (0.010 / 60))
    assert counts["web searches"] == pytest.approx(energy_kwh / 0.0003)
    car_m = counts["metres driven in a typical car"]
    assert car_m == pytest.approx(co2_kg(energy_kwh, "FRA") / (0.4 / 1609.344))
    assert everyday(energy_kwh, "POL")[-1].count > car_m, "a coal-heavy grid's CO2 drives the car further"


def test_in_words_names_the_energy_the_co2_and_the_grid():
    words = in_words(0.0012)
    assert words.startswith("1.2 Wh and ") and "world average grid" in words and "driving a typical car" in words


def test_a_lesson_s_cost_prices_each_run_and_scales_the_costliest():
    lesson = load_lesson(LESSONS_DIR / "8-cost-at-scale.toml")
    cheap = {**RUN, "energy_kwh": 1e-6, "train_flops": None}
    result = evaluate(lesson, {"tfidf": [cheap, cheap], "full": [RUN, RUN], "lora": [RUN, RUN]})
    cost = lesson_cost(result, country="IND", data_factor=1000)
    assert [r.run for r in cost.runs] == ["tfidf", "full", "lora"]
    assert cost.runs[1].co2_kg == pytest.approx(co2_kg(7e-4, "IND"))
    assert cost.scaled_run == "full" and cost.scaled.energy_kwh == pytest.approx(0.7)
    as_json = cost.to_json()
    assert as_json["scaled"]["method"].startswith("estimate:")
    assert set(as_json["runs"]["full"]) == {"energy_kwh", "co2_kg", "words", "everyday"}


def test_runs_without_energy_have_no_cost_and_a_run_that_cannot_scale_says_why():
    lesson = load_lesson(LESSONS_DIR / "8-cost-at-scale.toml")
    no_energy = {**RUN, "energy_kwh": None}
    assert lesson_cost(evaluate(lesson, {"full": [no_energy]})) is None
    cost = lesson_cost(evaluate(lesson, {"full": [{**RUN, "train_flops": None}]}))
    assert cost.scaled is None and "choose a finished run" in cost.scaled_error


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (40, "40 s"),
        (150, "2.5 minutes"),
        (5.2 * 3600, "5.2 hours"),
        (3 * 86400, "3 days"),
        (9 * 365.25 * 86400, "9 years"),
    ],
)
def test_a_scaled_time_reads_in_the_largest_unit_that_fits_twice(seconds, words):
    from efficiency.lessons.cost import duration_words

    assert duration_words(seconds) == words


def test_the_words_pick_the_two_counts_that_read_best_and_the_car():
    words = in_words(0.000483)  # half a watt-hour: a couple of web searches, not 5e-06 kettles
    assert "web searches" in words and "driving a typical car" in words
    assert "litres of water" not in words and "e-0" not in words
