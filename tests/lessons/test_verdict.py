"""The verdict rules on synthetic figures: one row per rule, each able to fail."""

from __future__ import annotations

import pytest

from efficiency.lessons.schema import Check
from efficiency.lessons.verdict import (
    INCONCLUSIVE,
    NOT_REPRODUCED,
    REPRODUCED,
    judge,
    lesson_verdict,
    stats,
)

R, N, U = REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE  # U: undecided

# (expect, metric, value, left seeds, right seeds, verdict)
CASES = [
    # lower / higher: the one-sd bands must not touch
    ("lower", "accuracy", None, [0.60, 0.62], [0.70, 0.72], R),
    ("lower", "accuracy", None, [0.70, 0.72], [0.60, 0.62], N),
    ("lower", "accuracy", None, [0.60, 0.70], [0.62, 0.68], U),
    ("higher", "accuracy", None, [0.70, 0.72], [0.60, 0.62], R),
    ("higher", "accuracy", None, [0.60, 0.62], [0.70, 0.72], N),
    # equal counts are not lower: the opposite holds, and counts have no noise
    ("lower", "trainable_params", None, [1000], [1000], N),
    # means 2 s apart, but each band reaches past the other's mean: inside the noise
    ("lower", "train_wall_s", None, [9.0, 11.0], [11.0, 13.0], U),
    # ratios: every pair within one sd
    ("ratio_below", "trainable_params", 0.01, [74_883], [22_713_219], R),
    ("ratio_below", "trainable_params", 0.01, [5_000_000], [10_000_000], N),
    ("ratio_above", "train_wall_s", 2.0, [10.0, 11.0], [4.0, 4.5], R),
    ("ratio_above", "train_wall_s", 2.0, [3.0, 3.2], [4.0, 4.5], N),
    ("ratio_above", "train_wall_s", 2.0, [8.0, 12.0], [3.0, 5.0], U),
    ("ratio_below", "train_wall_s", 0.5, [1.0, 1.2], [0.0, 0.1], U),  # the right side reaches zero
    # within: the whole band of the difference inside (or outside) plus or minus value
    ("within", "accuracy", 0.05, [0.70, 0.71], [0.705, 0.715], R),
    ("within", "accuracy", 0.05, [0.50, 0.51], [0.70, 0.71], N),
    ("within", "accuracy", 0.05, [0.60, 0.70], [0.65, 0.66], U),
    # one seed of a varying figure tells nothing of the noise, however far apart
    ("lower", "accuracy", None, [0.10], [0.90], U),
    ("lower", "accuracy", None, [0.10, 0.11], [0.90], U),
    # a side with no finished seed
    ("lower", "accuracy", None, [], [0.90, 0.91], U),
    ("lower", "accuracy", None, [None, None], [0.90, 0.91], U),
    # a figure that does not vary needs one seed
    ("ratio_below", "model_size_mb", 0.5, [20.0], [80.0], R),
]


@pytest.mark.parametrize(("expect", "metric", "value", "left", "right", "verdict"), CASES)
def test_verdict_rules(expect, metric, value, left, right, verdict):
    check = Check("claim", metric, "a", "b", expect, value)
    assert judge(check, left, right).verdict == verdict


@pytest.mark.parametrize(
    ("verdicts", "lesson"),
    [([R, R], R), ([R, N], N), ([R, U], U), ([U, N], N), ([U, U], U), ([], U)],
)
def test_lesson_verdict(verdicts, lesson):
    assert lesson_verdict(verdicts) == lesson


def test_stats_mean_sd_n_and_counts_without_spread():
    accuracy = stats([0.6, 0.7, None], "accuracy")
    assert accuracy is not None and accuracy.n == 2
    assert accuracy.mean == pytest.approx(0.65) and accuracy.sd == pytest.approx(0.0707, abs=1e-4)
    assert stats([0.6], "accuracy").sd is None  # unknown, not zero
    assert stats([1000], "trainable_params").sd == 0.0
    assert stats([None], "accuracy") is None


def test_the_words_give_the_figures_and_the_noise():
    check = Check("LoRA costs accuracy", "accuracy", "lora", "full", "lower")
    verdict = judge(check, [0.65, 0.67], [0.71, 0.73], "LoRA", "full")
    assert verdict.verdict == R
    assert verdict.words == "LoRA: 66.0% ± 1.4% against full: 72.0% ± 1.4%: 6.0 points lower, beyond noise."
    assert verdict.figures["left"] == {"run": "lora", "mean": pytest.approx(0.66), "sd": pytest.approx(0.01414, abs=1e-4), "n": 2}  # fmt: skip
    assert verdict.figures["comparison"]["difference"] == pytest.approx(-0.06)


def test_the_words_of_a_ratio_and_of_a_single_seed():
    ratio = judge(Check("tiny share", "trainable_params", "lora", "full", "ratio_below", 0.01), [74_883], [22_713_219])
    assert "74,883 against full: 22,713,219" in ratio.words and "0.33%" in ratio.words and "beyond noise" in ratio.words
    single = judge(Check("faster", "train_wall_s", "lora", "full", "lower"), [10.0], [20.0, 21.0], "LoRA", "full")
    assert "LoRA has one seed" in single.words
