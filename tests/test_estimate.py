"""The cost predicted before a run: calibration, rules of thumb, and prediction against measurement."""

from __future__ import annotations

import pytest

from efficiency.config import TechniqueSpec
from efficiency.estimate import (
    Calibration,
    TokenCounts,
    average_power_w,
    calibrate,
    estimate_run,
    load_calibration,
    work_shares,
)
from efficiency.runs.runner import run_experiment
from efficiency.store import RunStore
from tests.conftest import needs_shared_data, tiny_config

CAL = Calibration("tiny", "cpu", "h", train_flops_per_token=3e6, flops_per_s=1e9, step_wall_s=0.1,
                  measured_at=0.0, torch_threads=2, num_layers=2)  # fmt: skip
TOKENS = TokenCounts(train=10_000, valid=2_000, test=4_000)


def with_techniques(*specs):
    config = tiny_config()
    config.techniques = [TechniqueSpec(n, p) for n, p in specs]
    return config


def test_full_fine_tuning_is_three_forward_passes_per_training_token():
    config = tiny_config(epochs=2)
    predicted = estimate_run(config, TOKENS, CAL)
    assert predicted["train_flops"] == pytest.approx(2 * 10_000 * 3e6)
    assert predicted["eval_flops"] == pytest.approx((2 * 2_000 + 4_000) * 1e6)
    assert predicted["train_eval_wall_s"] == pytest.approx((6e10 + 8e9) / 1e9)
    assert predicted["energy_kwh"] is None  # no power known yet: no invented figure


def test_energy_and_carbon_follow_from_power_and_country():
    predicted = estimate_run(tiny_config(), TOKENS, CAL, power_w=36.0, power_source="run 1", country="FRA")
    assert predicted["energy_kwh"] == pytest.approx(36.0 * predicted["train_eval_wall_s"] / 3.6e6)
    assert predicted["co2_kg"] > 0


@pytest.mark.parametrize(
    ("specs", "share"),
    [
        ([("lora", {})], 2 / 3),  # no weight gradients
        ([("probe", {})], 1 / 3),  # forward only
        ([("filter", {"method": "random", "keep": 0.25})], 0.25),
        ([("prune", {"method": "layers", "sparsity": 0.5})], 0.5),
        ([("prune", {"method": "magnitude"})], 1.0),  # zeros in dense matrices still cost
        ([("quant", {})], 1.0),
    ],
)
def test_rules_of_thumb_scale_the_training_flops(specs, share):
    full = estimate_run(tiny_config(), TOKENS, CAL)["train_flops"]
    assert estimate_run(with_techniques(*specs), TOKENS, CAL)["train_flops"] == pytest.approx(full * share)


def test_distillation_charges_its_teacher():
    shares = work_shares(with_techniques(("distill", {})))
    assert shares["teacher"] and shares["layer_share"] == 0.5
    full = estimate_run(tiny_config(), TOKENS, CAL)["train_flops"]
    assert estimate_run(with_techniques(("distill", {})), TOKENS, CAL)["train_flops"] > full


def test_average_power_of_a_run():
    assert average_power_w({"energy_kwh": 1e-3, "train_wall_s": 90.0, "eval_wall_s": 10.0}) == pytest.approx(36.0)
    assert average_power_w({"energy_kwh": None, "train_wall_s": 90.0}) is None


def test_a_failed_calibration_says_why_and_is_forgotten_on_retry():
    from efficiency.errors import EfficiencyError
    from efficiency.estimate import calibration_error, forget_failure

    with pytest.raises(EfficiencyError):
        calibrate("/no/such/model/folder", "cpu")
    assert "/no/such/model/folder" in calibration_error("/no/such/model/folder", "cpu")
    forget_failure("/no/such/model/folder", "cpu")
    assert calibration_error("/no/such/model/folder", "cpu") is None


@needs_shared_data
def test_calibration_is_stored_and_predicts_a_real_run_within_a_factor_of_two():
    from efficiency.preview import preview_dataset

    measured_cal = calibrate("tiny", "cpu")
    assert load_calibration("tiny", "cpu") == measured_cal
    assert measured_cal.flops_per_s > 0 and measured_cal.train_flops_per_token > 0
    assert measured_cal.power_w > 0 and "CodeCarbon" in measured_cal.power_method  # energy known before a run
    config = tiny_config()
    preview = preview_dataset(config.data, "tiny", config.seed)
    predicted = estimate_run(config, preview.tokens, measured_cal)
    result = run_experiment(config, store=RunStore())
    ratio = result.metrics["train_flops"] / predicted["train_flops"]
    assert 0.5 < ratio < 2.0, ratio  # the rule (3 x forward per token) against FLOPs counted on the run
