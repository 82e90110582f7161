"""Run reuse: a lesson's runs matched to the store (reused, joined or queued as one request), on synthetic rows."""

from __future__ import annotations

from pathlib import Path

import pytest

from efficiency.config import RunConfig
from efficiency.errors import EfficiencyError
from efficiency.lessons import REPRODUCED, lesson_result, load_lesson, plan_lesson, queue_missing
from efficiency.lessons.plan import _resolved, lesson_config
from efficiency.store import RunStore

LESSON = load_lesson(Path(__file__).with_name("tiny.toml"))
FULL, LORA = LESSON.runs


def _config(run=FULL, seed: int = 7) -> RunConfig:
    return lesson_config(LESSON, run, seed)


def _stored(store: RunStore, config: RunConfig, status: str = "finished", metrics: dict | None = None) -> int:
    """A run as the runner leaves it: created, its config resolved once it started, then ended (or still queued)."""
    run_id = store.create_run(config.to_dict(), device="cpu")
    if status != "queued":
        store.update_config(run_id, _resolved(config).to_dict())
        store.finish(run_id, status, metrics=metrics or {})
    return run_id


def _statuses(store: RunStore) -> dict[str, tuple[str, int | None]]:
    return {item.run: (item.status, item.record_id) for item in plan_lesson(LESSON, store).items}


def test_a_finished_run_is_reused_whatever_its_display_settings():
    store = RunStore()
    config = _config()
    config.name, config.note = "someone else's run", "a note"
    config.measure.country, config.train.time_limit_s = "FR", 600.0
    run_id = _stored(store, config.validate())
    assert _statuses(store) == {"full": ("finished", run_id), "lora": ("missing", None)}


@pytest.mark.parametrize(
    "change",
    [
        lambda c: setattr(c.train, "epochs", 2),
        lambda c: setattr(c, "seed", 8),
        lambda c: setattr(c.data, "limit_train", 61),
        lambda c: setattr(c.train, "learning_rate", 5e-4),  # the default resolves to 1e-3 for tiny
    ],
    ids=["epochs", "seed", "limit_train", "learning_rate"],
)
def test_a_run_that_differs_in_a_setting_that_counts_is_not_reused(change):
    store = RunStore()
    config = _config()
    change(config)
    _stored(store, config)
    assert _statuses(store)["full"] == ("missing", None)


def test_the_resolved_default_matches_the_same_value_written_out():
    from efficiency.lessons import parse_text

    text = Path(__file__).with_name("tiny.toml").read_text(encoding="utf-8").replace("--max-length 32 ", "")
    lesson = parse_text(text, "defaults.toml")  # the length left to the dataset's default
    store = RunStore()
    config = lesson_config(lesson, lesson.runs[0], 7)
    config.train.learning_rate, config.data.max_length = 1e-3, 128  # tiny's default rate, NusaX's default length
    run_id = _stored(store, config)
    assert plan_lesson(lesson, store).items[0].record_id == run_id


def test_queued_and_running_runs_are_joined_failed_ones_are_not():
    store = RunStore()
    _stored(store, _config(LORA), status="failed")
    queued = _stored(store, _config(FULL), status="queued")
    statuses = _statuses(store)
    assert statuses["full"] == ("queued", queued)
    assert statuses["lora"] == ("missing", None)


def test_the_missing_runs_are_queued_as_one_request_and_joined_after():
    store = RunStore()
    plan = plan_lesson(LESSON, store)
    request = queue_missing(plan, store)
    assert request is not None and request.startswith("lesson:tiny-lora:")
    records = [store.get(item.record_id) for item in plan.items]
    assert [r.status for r in records] == ["queued", "queued"]
    assert {r.request for r in records} == {request}
    assert [r.techniques for r in records] == [[], ["lora"]]  # in the lesson's order
    again = plan_lesson(LESSON, store)  # a second student opening the lesson joins them
    assert [(i.status, i.record_id) for i in again.items] == [("queued", r.id) for r in records]
    assert queue_missing(again, store) is None
    assert len(store.list()) == 2


def test_the_result_reads_the_finished_runs_and_lists_the_pending():
    store = RunStore()
    full = _stored(store, _config(FULL), metrics={"trainable_params": 2_000_000, "accuracy": 0.4})
    lora = _stored(store, _config(LORA), status="queued")
    pending = lesson_result(LESSON, store)
    assert pending.runs == {"full": [full], "lora": [lora]} and pending.pending == [lora]
    assert pending.checks[0].verdict == "inconclusive" and "LoRA r=4 has no trainable_params" in pending.checks[0].words
    store.finish(lora, "finished", metrics={"trainable_params": 2_000, "accuracy": 0.41})
    done = lesson_result(LESSON, store)
    assert done.checks[0].verdict == REPRODUCED and done.pending == []
    assert done.to_json()["figures"]["lora"]["trainable_params"] == {"mean": 2000.0, "sd": 0.0, "n": 1}


def test_a_run_on_another_device_is_not_reused():
    store = RunStore()
    config = _config()
    config.device = "auto"
    run_id = store.create_run(config.to_dict(), device="cuda:0")  # where 'auto' took it on a GPU server
    store.finish(run_id, "finished", metrics={})
    assert _statuses(store)["full"] == ("missing", None)  # this lesson runs on the CPU


def test_a_page_may_adjust_display_settings_and_the_runs_still_match():
    store = RunStore()

    def lab_settings(config: RunConfig) -> RunConfig:
        config.train.time_limit_s, config.measure.country = 300.0, "IND"
        return config

    plan = plan_lesson(LESSON, store)
    queue_missing(plan, store, adjust=lab_settings)
    assert store.get(plan.items[0].record_id).config["train"]["time_limit_s"] == 300.0
    assert [i.status for i in plan_lesson(LESSON, store).items] == ["queued", "queued"]


def test_a_failed_run_is_reported_with_its_message():
    store = RunStore()
    plan = plan_lesson(LESSON, store)
    queue_missing(plan, store)
    store.finish(plan.items[0].record_id, "failed", error="Out of memory on cpu.")
    result = lesson_result(LESSON, store, plan)
    assert result.failed == {plan.items[0].record_id: "failed: Out of memory on cpu."}
    assert "did not finish: failed: Out of memory on cpu." in result.text()


def test_a_teachers_dataset_file_is_found_beside_the_lesson(tmp_path, sentiment_csv):
    from efficiency.lessons import load_lesson as load

    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "reviews.csv").write_text(sentiment_csv.read_text(encoding="utf-8"), encoding="utf-8")
    text = Path(__file__).with_name("tiny.toml").read_text(encoding="utf-8")
    (folder / "mine.toml").write_text(text.replace("--dataset nusax-senti/javanese", "--dataset reviews.csv"),
                                      encoding="utf-8")  # fmt: skip
    lesson = load(folder / "mine.toml")
    assert lesson_config(lesson, lesson.runs[0], 7).data.dataset == str((folder / "reviews.csv").resolve())


def test_a_students_lesson_is_theirs_and_counts_once_against_the_quota():
    from efficiency.owners import Actor, new_token

    store = RunStore()
    ana = Actor.student(new_token(), "Ana")
    store.create_run(_config(seed=99).to_dict(), device="cpu", owner=ana, quota=2)  # a request of her own first
    request = queue_missing(plan_lesson(LESSON, store), store, owner=ana, quota=2)  # two runs, one request
    lesson_runs = [r for r in store.list() if r.request == request]
    assert len(lesson_runs) == 2 and {r.owner for r in lesson_runs} == {ana.owner}
    with pytest.raises(EfficiencyError, match="2 request"):
        store.create_run(_config(seed=98).to_dict(), device="cpu", owner=ana, quota=2)
