"""Comparing runs: labels, seed groups, the Pareto frontier, A versus B, re-pricing and export."""

from __future__ import annotations

import csv
import io
import json

import pytest

from efficiency.compare import (
    baseline_of,
    charged_curve,
    config_diff,
    experiment_in_words,
    export_runs,
    group_seeds,
    pareto_mask,
    ratio_phrase,
    reprice,
    run_frame,
    signature,
    technique_label,
    versus,
    versus_sentence,
)
from efficiency.figures import human, shown
from efficiency.measure.carbon import intensity_g_per_kwh
from efficiency.store import RunStore


def config(seed=42, techniques=(), model="minilm", epochs=3):
    return {
        "name": f"s{seed}",
        "seed": seed,
        "model": {"name": model},
        "data": {"dataset": "nusax-senti/javanese"},
        "train": {"epochs": epochs},
        "techniques": [{"name": n, "params": p} for n, p in techniques],
    }


@pytest.fixture
def store(tmp_path):
    return RunStore(f"sqlite:///{tmp_path}/runs.sqlite")


def finished(store, cfg, **metrics):
    run_id = store.create_run(cfg)
    store.finish(run_id, "finished", metrics=metrics)
    return run_id


def test_labels_name_techniques_and_their_changed_settings():
    assert technique_label(config()) == "full fine-tuning"
    assert technique_label(config(model="tfidf-logreg")) == "TF-IDF baseline"
    both = config(techniques=[("lora", {"r": 4, "target_modules": ["query", "value"]}), ("quant", {})])
    assert technique_label(both) == "lora(r=4,target_modules=query+value) + quant"


def test_repeats_share_a_signature_and_other_settings_do_not():
    assert signature(config(seed=1)) == signature(config(seed=2))
    assert signature(config(epochs=2)) != signature(config(epochs=3))
    limited = {**config(), "measure": {"country": "FRA"}, "train": {"epochs": 3, "time_limit_s": 900}}
    assert signature(limited) == signature(config())  # the price and a limit not reached change no result


def test_seeds_are_grouped_with_mean_and_sd(store):
    for seed, acc in ((1, 0.60), (2, 0.70), (3, 0.80)):
        finished(store, config(seed=seed), accuracy=acc, train_wall_s=10.0 * seed)
    finished(store, config(techniques=[("lora", {})]), accuracy=0.65, train_wall_s=5.0)
    queued = store.create_run(config(seed=9))  # unfinished runs are not points
    groups = group_seeds(store.list())
    assert [g.n for g in groups] == [3, 1]
    full = groups[0]
    assert full.mean["accuracy"] == pytest.approx(0.70)
    assert full.sd["accuracy"] == pytest.approx(0.10)
    assert full.seeds == [1, 2, 3] and queued not in full.run_ids
    assert groups[1].sd["accuracy"] is None  # one seed: no spread known
    assert baseline_of(groups[1], groups) is full
    frame = run_frame(store.list())
    assert set(frame["techniques"]) == {"Full fine-tuning", "LoRA r=8"}


def test_experiments_with_the_same_techniques_are_told_apart_by_what_differs(store):
    finished(store, config(model="minilm"), accuracy=0.7)
    finished(store, config(model="tiny", seed=1), accuracy=0.5)
    finished(store, config(model="tiny", seed=2), accuracy=0.6)
    finished(store, config(model="tiny", epochs=1), accuracy=0.4)
    finished(store, config(techniques=[("lora", {})]), accuracy=0.65)
    labels = [g.label for g in group_seeds(store.list())]
    assert labels == [
        "Full fine-tuning · minilm, epochs 3",
        "Full fine-tuning · tiny, epochs 3",
        "Full fine-tuning · tiny, epochs 1",
        "LoRA r=8",  # unique: no suffix
    ]


def test_labels_add_settings_until_each_is_unique(store):
    def cfg(model, lr, epochs=3):
        return {**config(model=model, epochs=epochs), "train": {"epochs": epochs, "learning_rate": lr}}

    finished(store, cfg("minilm", 5e-5), accuracy=0.7)
    finished(store, cfg("minilm", 1e-4), accuracy=0.7)
    finished(store, cfg("tiny", 5e-5, epochs=1), accuracy=0.5)
    labels = [g.label for g in group_seeds(store.list())]
    assert len(set(labels)) == 3, labels
    assert labels[0] == "Full fine-tuning · minilm, epochs 3, learning rate 5e-05"


def test_points_are_named_in_words_from_the_techniques_facts():
    def named(*techniques):
        return experiment_in_words(config(techniques=list(techniques)))

    assert named() == "Full fine-tuning"
    assert experiment_in_words(config(model="tfidf-logreg")) == "TF-IDF baseline"
    assert named(("lora", {"r": 8})) == "LoRA r=8"
    assert named(("prune", {"method": "layers", "sparsity": 0.5})) == "Half the layers removed"
    assert named(("filter", {"method": "random", "keep": 0.5})) == "Random half of the data"
    assert named(("quant", {})) == "int8 after training"
    assert named(("lora", {"r": 4}), ("quant", {})) == "LoRA r=4 + int8 after training"
    assert named(("gone", {"x": 1})) == "gone"  # a technique no longer registered keeps its stored name


def test_two_experiments_named_alike_are_told_apart_by_the_technique_setting_that_differs(store):
    finished(store, config(techniques=[("lora", {"target_modules": ["query"]})]), accuracy=0.6)
    finished(store, config(techniques=[("lora", {"target_modules": ["query", "value"]})]), accuracy=0.7)
    labels = sorted(g.label for g in group_seeds(store.list()))
    assert labels == ["LoRA r=8 · target modules query", "LoRA r=8 · target modules query+value"]


def test_figures_are_shown_in_human_units():
    assert shown("energy_kwh", 0.00012) == pytest.approx(0.12)  # Wh
    assert shown("train_wall_s", 12.0) == 12.0
    assert (human(0.0123), human(150.4), human(1234.6)) == ("0.012", "150", "1,235")


def test_pareto_frontier():
    # (cost, quality): b dominates a; c is cheapest; d is best; e ties c on cost but is worse.
    costs = [10, 8, 2, 20, 2]
    quality = [0.6, 0.7, 0.5, 0.9, 0.4]
    assert pareto_mask(costs, quality) == [False, True, True, True, False]


def test_config_diff_reads_as_changes():
    base = config()
    other = config(seed=7, epochs=2, techniques=[("lora", {"r": 4})])
    assert config_diff(base, other) == ["train.epochs: 3 → 2", "+ lora(r=4)"]  # the seed is not a difference


def test_versus_reports_factors_points_and_noise(store):
    for seed, acc in ((1, 0.70), (2, 0.72)):
        finished(store, config(seed=seed), accuracy=acc, train_wall_s=60.0, energy_kwh=2e-3, co2_kg=1e-3)
    for seed, acc in ((1, 0.69), (2, 0.73)):
        finished(store, config(seed=seed, techniques=[("lora", {})]), accuracy=acc, train_wall_s=20.0,
                 energy_kwh=1e-3, co2_kg=0.5e-3)  # fmt: skip
    full, lora = group_seeds(store.list())
    result = versus(full, lora)
    assert result["train_wall_s_factor"] == pytest.approx(3.0)
    assert result["quality_points"] == pytest.approx(0.0, abs=1e-9)
    assert result["within_noise"] is True
    assert result["co2_saved_g"] == pytest.approx(0.5)
    assert versus_sentence(result).startswith("3.0x faster, +0.0 accuracy points (within noise)")


def test_a_distilled_runs_curve_starts_where_its_teacher_ended(store):
    curve = [{"step": 1, "flops": 1e9, "elapsed_s": 2.0, "loss": 1.0}]
    run_id = store.create_run(config(techniques=[("distill", {})]), device="cpu")
    store.finish(run_id, "finished", metrics={"teacher_flops": 5e9, "teacher_wall_s": 30.0}, curves={"train": curve})
    (point,) = charged_curve(store.get(run_id))
    assert point["flops"] == 6e9 and point["elapsed_s"] == 32.0 and point["step"] == 1
    assert curve[0]["flops"] == 1e9, "the stored curve is left as it was"
    plain = store.create_run(config(), device="cpu")
    store.finish(plain, "finished", metrics={}, curves={"train": curve})
    assert charged_curve(store.get(plain)) == curve


def test_ratios_read_as_words_in_both_directions():
    assert ratio_phrase(3.14) == "3.1x faster"
    assert ratio_phrase(1 / 25.7) == "25.7x slower"  # never a bare "0.04x" beside a headline that says slower
    assert ratio_phrase(0.5, more="more", less="fewer") == "2.0x more"
    assert ratio_phrase(None) is None


def test_a_difference_larger_than_the_spread_is_not_noise(store):
    for seed, acc in ((1, 0.70), (2, 0.71)):
        finished(store, config(seed=seed), accuracy=acc, train_wall_s=60.0)
    for seed, acc in ((1, 0.60), (2, 0.61)):
        finished(store, config(seed=seed, techniques=[("probe", {})]), accuracy=acc, train_wall_s=10.0)
    full, probe = group_seeds(store.list())
    result = versus(full, probe)
    assert result["within_noise"] is False
    assert "within noise" not in versus_sentence(result)


def test_groups_can_be_priced_under_one_grid(store):
    finished(store, config(), accuracy=0.7, energy_kwh=0.01, co2_kg=123.0)  # priced elsewhere when it ran
    (group,) = group_seeds(store.list(), country="FRA")
    assert group.mean["co2_kg"] == pytest.approx(0.01 * intensity_g_per_kwh("FRA")[0] / 1000)
    assert group_seeds(store.list())[0].mean["co2_kg"] == 123.0


def test_reprice_uses_each_grid():
    frame = reprice(0.01, ["FRA", "IND", "WORLD"])
    assert next(iter(frame["country"])) == "FRA"  # cleanest first
    india = frame.set_index("country").loc["IND"]
    assert india["co2_g"] == pytest.approx(0.01 * intensity_g_per_kwh("IND")[0])


def test_export_csv_and_json(store):
    run_id = finished(store, config(), accuracy=0.7, label_names=["a", "b"])
    rows = list(csv.DictReader(io.StringIO(export_runs(store.list(), "csv"))))
    assert rows[0]["run_id"] == str(run_id) and rows[0]["accuracy"] == "0.7"
    assert json.loads(rows[0]["config"])["seed"] == 42
    assert "label_names" not in rows[0]  # lists stay in the JSON export
    data = json.loads(export_runs(store.list(), "json"))
    assert data[0]["metrics"]["label_names"] == ["a", "b"]
