"""Lesson files: every shipped one validates, and a bad file gets a message naming the field and what to write."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path

import pytest

from efficiency.lessons import LessonError, find_lesson, load_lesson, parse_text, shipped_lessons
from efficiency.lessons.schema import PILLARS, parse_lesson

TINY_LESSON = Path(__file__).with_name("tiny.toml")
GOOD = tomllib.loads(TINY_LESSON.read_text(encoding="utf-8"))


def test_the_eight_shipped_lessons_validate_with_unique_names():
    lessons = shipped_lessons()
    assert len(lessons) == 8
    assert len({lesson.name for lesson in lessons}) == 8
    assert {lesson.pillar for lesson in lessons} <= set(PILLARS)
    for lesson in lessons:
        assert lesson.checks and lesson.runs
        assert find_lesson(lesson.name) == lesson


def test_the_tests_own_lesson_reads_as_written():
    lesson = load_lesson(TINY_LESSON)
    assert lesson.name == "tiny-lora" and [r.id for r in lesson.runs] == ["full", "lora"]
    assert lesson.runs[1].seeds == (7,)
    check = lesson.checks[0]
    assert (check.left, check.right, check.expect, check.value) == ("lora", "full", "ratio_below", 0.5)
    assert find_lesson(str(TINY_LESSON)) == lesson  # a teacher's file by its path


def _set(path: str, value: object) -> dict:
    """A copy of the good lesson with one field set ('runs.0.seeds') or removed (value None)."""
    raw = copy.deepcopy(GOOD)
    *parents, last = path.split(".")
    node = raw
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    if value is None:
        del node[int(last) if last.isdigit() else last]
    else:
        node[int(last) if last.isdigit() else last] = value
    return raw


# (field set or removed, value, fragments the message must hold: the field and what to write)
BAD = [
    ("title", None, ["title is missing", 'title = "']),
    ("pillar", "speed", ["pillar 'speed'", "data, effort, compute"]),
    ("name", "LoRA vs full", ["name 'LoRA vs full'", "lower-case"]),
    ("titel", "typo", ["titel is not a lesson field", "title"]),
    ("runs", None, ["runs are missing", "[[runs]]"]),
    ("runs.0.seeds", "42", ["runs[0].seeds", "seeds = [42, 43]"]),
    ("runs.0.seeds", [1, 1], ["runs[0].seeds", "repeats a seed"]),
    ("runs.0.args", "--model tiny --epoch 1", ["runs[0].args", "'--epoch 1' is not a flag"]),
    ("runs.0.args", "--model tiny --epochs 0", ["runs[0].args", "epochs is 0"]),
    ("runs.0.args", "--model tiny --seed 3", ["runs[0].args", "seeds = [42, 43]"]),
    ("runs.1.id", "full", ["runs[1].id", "used twice"]),
    ("checks.0.metric", "acc", ["checks[0].metric 'acc'", "accuracy"]),
    ("checks.0.compare", ["lora", "big"], ["checks[0].compare names 'big'", "full, lora"]),
    ("checks.0.compare", ["lora"], ["checks[0].compare", 'compare = ["full"']),
    ("checks.0.expect", "smaller", ["checks[0].expect 'smaller'", "lower, higher, ratio_below"]),
    ("checks.0.value", None, ["checks[0].value", "value = 0.01"]),
    ("checks.1.expect", "lower", ["checks[1].value", "remove it"]),
    ("checks", [], ["checks are missing", "[[checks]]"]),
    ("explain", "why?", ["explain", 'explain = ["']),
]


@pytest.mark.parametrize(("field", "value", "fragments"), BAD, ids=[f"{b[0]}={b[1]}" for b in BAD])
def test_a_bad_lesson_names_the_field_and_what_to_write(field, value, fragments):
    with pytest.raises(LessonError) as caught:
        parse_lesson(_set(field, value), "mine.toml")
    message = str(caught.value)
    assert message.startswith("mine.toml: ")
    for fragment in fragments:
        assert fragment in message


def test_unreadable_files_and_unknown_names_say_what_to_do(tmp_path):
    with pytest.raises(LessonError, match="not valid TOML"):
        parse_text('name = "x\n[[runs]]', "broken.toml")
    with pytest.raises(LessonError, match="Cannot read the lesson file"):
        load_lesson(tmp_path / "absent.toml")
    with pytest.raises(LessonError, match=r"There is no lesson 'nope': use one of .*lora-vs-full"):
        find_lesson("nope")


def test_an_unknown_dataset_or_technique_is_refused_on_load():
    for args, fragment in [("--model tiny --dataset nusax-senti/klingon", "klingon"), ("--technique lorra", "lorra")]:
        with pytest.raises(LessonError, match=r"runs\[0\]\.args cannot be used") as caught:
            parse_lesson(_set("runs.0.args", args), "mine.toml")
        assert fragment in str(caught.value)
