"""Owners: only a run's owner or the teacher may stop, cancel or delete it on a class server; tokens never leak."""

from __future__ import annotations

import json
import logging

import pytest

from efficiency.errors import EfficiencyError
from efficiency.export import export_runs
from efficiency.owners import Actor, display_name, new_token, token_hash
from efficiency.run_card import card_markdown, run_card


@pytest.fixture
def ana() -> Actor:
    return Actor.student(new_token(), "Ana")


@pytest.fixture
def budi() -> Actor:
    return Actor.student(new_token(), "Budi")


def test_an_actor_never_shows_its_token(ana):
    assert ana.token not in repr(ana) and ana.token not in str(ana)
    assert ana.owner == token_hash(ana.token) and ana.owner != ana.token
    assert new_token() != new_token()


def test_who_may_change_a_run(ana, budi):
    assert ana.may_change(ana.owner)
    assert not ana.may_change(budi.owner)
    assert not ana.may_change(None), "a run without an owner (queued from the CLI) is the teacher's to change"
    assert Actor.class_teacher().may_change(budi.owner)
    assert Actor.personal().may_change(budi.owner), "a personal lab allows everything"


def test_a_name_is_one_trimmed_line():
    assert display_name("  Ana \n  Maria\t") == "Ana Maria"
    assert len(display_name("x" * 500)) == 60


def test_a_browser_without_a_token_is_told_to_reload():
    with pytest.raises(EfficiencyError, match="reload"):
        Actor.student("", "Ana")


def test_students_cannot_stop_cancel_or_delete_each_others_runs(store, ana, budi):
    mine = store.create_run({"name": "a"}, device="cpu", owner=ana)
    theirs = store.create_run({"name": "b"}, device="cpu", owner=budi)
    record = store.get(mine)
    assert record.owner == ana.owner and record.owner_name == "Ana"
    with pytest.raises(EfficiencyError, match="Budi's run: only its owner or the teacher can cancel it"):
        store.request_stop(theirs, actor=ana)
    assert store.get(theirs).status == "queued", "a refused cancel changes nothing"
    assert store.request_stop(mine, actor=ana) == "stopped"
    store.claim(theirs, "cpu")
    with pytest.raises(EfficiencyError, match="can stop it"):
        store.request_stop(theirs, actor=ana)
    assert not store.get(theirs).stop_requested
    assert store.request_stop(theirs, actor=Actor.class_teacher()) == "running"
    store.finish(theirs, "stopped")
    with pytest.raises(EfficiencyError, match="can delete it"):
        store.delete(theirs, actor=ana)
    assert store.delete(theirs, actor=budi)
    assert store.delete(mine, actor=Actor.class_teacher())


def test_tokens_appear_in_no_export_run_card_or_log(store, ana, caplog):
    caplog.set_level(logging.DEBUG)
    run_id = store.create_run({"name": "a", "model": {"name": "tiny"}, "data": {"dataset": "d"}}, owner=ana)
    store.claim(run_id, "cpu")
    store.finish(run_id, "finished", metrics={"accuracy": 0.5})
    with pytest.raises(EfficiencyError) as refused:
        store.delete(run_id, actor=Actor.student(new_token(), "Eve"))
    record = store.get(run_id)
    csv_text, json_text = export_runs([record], "csv"), export_runs([record], "json")
    card = run_card(record)
    shown = [csv_text, json_text, json.dumps(card, default=str), card_markdown(card), str(refused.value), caplog.text]
    shown += [json.dumps(record.summary(), default=str), repr(record)]
    assert not [text for text in shown if ana.token in text]
    assert not [text for text in (csv_text, json_text) if ana.owner in text], "exports leave the class's store hash"
    assert json.loads(json_text)[0]["owner_name"] == "Ana"


def test_a_browser_session_is_a_student_only_on_a_class_server():
    token = new_token()
    assert Actor.for_session(token, "Ana", environ={}) == Actor.personal()
    student = Actor.for_session(token, "Ana", environ={"EFFLAB_CLASS": "1"})
    assert student.in_class and not student.teacher and student.owner == token_hash(token)
    teacher = Actor.for_session(token, "", teacher=True, environ={"EFFLAB_CLASS": "1"})
    assert teacher.teacher and teacher.may_change(None) and teacher.owner == token_hash(token)
