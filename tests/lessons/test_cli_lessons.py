"""The tests' own lesson on the tiny model, end to end through the CLI: verdict, JSON keys, reuse, run card."""

from __future__ import annotations

import json
import shlex
import time
from pathlib import Path

from efficiency.cli import main
from efficiency.config import RunConfig
from efficiency.estimate import Calibration, save_calibration
from efficiency.flags import config_from_flags
from efficiency.lessons import load_lesson, plan_lesson
from efficiency.lessons.minutes import estimate_minutes
from efficiency.store import RunStore
from tests.conftest import needs_shared_data

TINY_LESSON = Path(__file__).with_name("tiny.toml")


@needs_shared_data
def test_a_lesson_runs_end_to_end_and_a_second_run_trains_nothing(capsys):
    assert main(["lesson", "run", str(TINY_LESSON), "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert first.keys() >= {"lesson", "title", "verdict", "checks", "runs", "figures"}
    assert (first["lesson"], first["verdict"]) == ("tiny-lora", "inconclusive")  # accuracy: one seed per side
    assert [c["verdict"] for c in first["checks"]] == ["reproduced", "inconclusive"]
    assert first["checks"][0]["figures"]["words"].startswith("LoRA r=4: ")
    assert set(first["runs"]) == {"full", "lora"} and all(len(ids) == 1 for ids in first["runs"].values())
    assert first["figures"]["full"]["trainable_params"]["n"] == 1
    store = RunStore()
    assert {r.status for r in store.list()} == {"finished"} and len(store.list()) == 2

    assert main(["lesson", "run", str(TINY_LESSON), "--json"]) == 0  # the same lesson again: all reused
    again = capsys.readouterr()
    assert json.loads(again.out)["runs"] == first["runs"]
    assert "reusing 2 stored run(s)" in again.err
    assert len(store.list()) == 2

    run_id = first["runs"]["lora"][0]
    assert main(["runs", "card", str(run_id), "--format", "json"]) == 0
    card = json.loads(capsys.readouterr().out)
    assert card["seed"] == 7 and card["results"]["trainable_params"]["kind"] == "counted"
    assert card["libraries"]["torch"] and card["hardware"]["device"] == "cpu"
    rebuilt = config_from_flags(shlex.join(shlex.split(card["command"])[4:]))
    assert rebuilt == RunConfig.from_dict(store.get(run_id).config)  # the command re-runs this very config
    assert main(["runs", "card", str(run_id)]) == 0
    markdown = capsys.readouterr().out
    assert "## Re-run it" in markdown and "--technique lora:r=4" in markdown


def test_lesson_list_and_its_minutes(capsys):
    assert main(["lesson", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 8 and rows[0]["name"] == "lora-vs-full"
    assert rows[0]["runs"] == 4 and rows[0]["done"] is False
    assert rows[0]["minutes"] is None and rows[0]["uncalibrated_models"] == ["minilm"]  # no calibration here
    save_calibration(Calibration("tiny", "cpu", "", 1e6, 1e9, 0.1, time.time(), 1, num_layers=2))
    minutes = estimate_minutes(plan_lesson(load_lesson(TINY_LESSON), RunStore()))
    assert minutes.total is not None and minutes.total > 0 and minutes.left == minutes.total
    assert "estimate" in minutes.method


def test_a_bad_lesson_gets_a_message_not_a_traceback(tmp_path, capsys):
    bad = tmp_path / "mine.toml"
    bad.write_text(TINY_LESSON.read_text().replace('pillar = "effort"', 'pillar = "speed"'), encoding="utf-8")
    assert main(["lesson", "run", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "pillar 'speed'" in err and "Traceback" not in err
    assert main(["lesson", "run", "no-such-lesson"]) == 2
    assert "There is no lesson 'no-such-lesson'" in capsys.readouterr().err


@needs_shared_data
def test_a_lesson_about_energy_prints_what_its_runs_cost(tmp_path, capsys):
    text = TINY_LESSON.read_text().replace(" --no-measure-energy --no-measure-flops", "")
    text += '\n[[checks]]\nsays = "LoRA takes less energy"\nmetric = "energy_kwh"\ncompare = ["lora", "full"]\nexpect = "lower"\n'
    costly = tmp_path / "cost.toml"
    costly.write_text(text, encoding="utf-8")
    assert main(["lesson", "run", str(costly), "--json", "--quiet", "--country", "FR"]) == 0
    cost = json.loads(capsys.readouterr().out)["cost"]
    assert cost["country"] == "FRA" and set(cost["runs"]) == {"full", "lora"}
    full = cost["runs"]["full"]
    assert full["energy_kwh"] > 0 and full["co2_kg"] > 0 and len(full["everyday"]) >= 5
    assert all(thing["source"] for thing in full["everyday"])
    assert cost["scaled"]["data_factor"] == 1000 and cost["scaled"]["params"] == 1e9, "the Lessons page's defaults"
    assert cost["scaled"]["method"].startswith("estimate:")
    assert main(["lesson", "run", str(costly), "--quiet", "--scale-params-m", "7000", "--scale-data", "10"]) == 0
    out = capsys.readouterr().out  # reused; as text
    assert "What these runs cost" in out and "driving a typical car" in out
    assert "At scale (full, 7,000M parameters on 10 times the data)" in out or "At scale (lora, 7,000M" in out
