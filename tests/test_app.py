"""The app's pages through Streamlit's AppTest (no browser): they render, start a real run, show it."""

import time

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from efficiency import paths
from efficiency.store import RunStore
from tests.conftest import needs_shared_data

pytestmark = needs_shared_data


@pytest.fixture(autouse=True)
def fresh_caches():
    """The app caches its store per server process; each test has its own app-data folder."""
    st.cache_resource.clear()
    st.cache_data.clear()


APP = str(paths.REPO_ROOT / "app.py")


def test_home_renders_the_form_and_no_runs_yet():
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert at.title[0].value == "Efficiency Lab"
    assert at.selectbox[0].value == "minilm"
    assert at.selectbox[1].value == "nusax-senti/javanese"
    assert any("No runs yet" in c.value for c in at.caption)


def test_train_starts_a_background_run_and_the_page_shows_its_result():
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.selectbox[0].set_value("tiny")
    at.number_input[0].set_value(1)
    at.button[0].click().run()  # the form's Train button
    assert not at.exception
    run_id = int(at.query_params["run"][0] if isinstance(at.query_params["run"], list) else at.query_params["run"])
    store = RunStore()
    deadline = time.time() + 180
    while time.time() < deadline and store.get(run_id).status in ("queued", "running"):
        time.sleep(1)
    record = store.get(run_id)
    assert record.status == "finished", record.error
    assert record.environment["libraries"]["torch"], "the worker process ran it through the runner"

    fresh = AppTest.from_file(APP, default_timeout=60)
    fresh.query_params["run"] = str(run_id)  # as after a browser refresh: the URL holds the run
    fresh.run()
    assert not fresh.exception
    labels = [m.label for m in fresh.metric]
    assert "Accuracy" in labels and "Energy" in labels
    assert any("estimated" in md.value for md in fresh.markdown)


def test_failed_run_shows_its_message_not_a_traceback():
    store = RunStore()
    run_id = store.create_run({"name": "broken", "model": {"name": "tiny"}, "data": {"dataset": "x"}})
    store.finish(run_id, "failed", error="Unknown dataset 'x'. Known: ...")
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["run"] = str(run_id)
    at.run()
    assert not at.exception
    assert "Unknown dataset 'x'" in at.error[0].value
