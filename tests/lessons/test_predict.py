"""The predict step: the guesses offered for each kind of check, and the one each verdict supports."""

from __future__ import annotations

from pathlib import Path

import pytest

from efficiency.lessons import load_lesson
from efficiency.lessons.predict import SAME, choices, supported
from efficiency.lessons.schema import Check
from efficiency.lessons.verdict import judge

LESSON = load_lesson(Path(__file__).with_name("tiny.toml"))
FASTER = Check("LoRA trains faster", "train_wall_s", "lora", "full", "lower")


def test_the_guesses_name_the_runs_and_the_figure():
    assert choices(FASTER, LESSON) == (
        "LoRA r=4: lower training time than Full fine-tuning", SAME, "LoRA r=4: higher training time than Full fine-tuning",
    )  # fmt: skip
    ratio = choices(LESSON.checks[0], LESSON)
    assert ratio == ("LoRA r=4: trainable parameters under 50% of Full fine-tuning's",
                     "LoRA r=4: trainable parameters over 50% of Full fine-tuning's")  # fmt: skip
    assert choices(LESSON.checks[1], LESSON)[0] == "LoRA r=4 and Full fine-tuning: accuracy within ±5.0 points"


@pytest.mark.parametrize(
    ("left", "right", "index"),
    [
        ([10.0, 11.0], [20.0, 21.0], 0),  # faster beyond noise
        ([30.0, 31.0], [20.0, 21.0], 2),  # slower beyond noise
        ([19.0, 22.0], [20.0, 21.0], 1),  # within noise: about the same
        ([10.0], [20.0, 21.0], None),  # one seed: the measurement cannot say
    ],
)
def test_the_supported_guess_of_a_direction(left, right, index):
    verdict = judge(FASTER, left, right)
    expected = None if index is None else choices(FASTER, LESSON)[index]
    assert supported(verdict, FASTER, LESSON) == expected


def test_the_supported_guess_of_a_ratio():
    check = LESSON.checks[0]
    assert supported(judge(check, [2_243], [2_057_731]), check, LESSON) == choices(check, LESSON)[0]
    assert supported(judge(check, [2_000_000], [2_057_731]), check, LESSON) == choices(check, LESSON)[1]
