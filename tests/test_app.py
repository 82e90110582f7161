"""Every page through Streamlit's AppTest (no browser): it renders, and its widgets do what they say."""

from __future__ import annotations

import json
import time

import pytest
import streamlit as st
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest

from efficiency import paths
from efficiency.estimate import Calibration, save_calibration
from efficiency.runs import scheduler
from efficiency.store import RunStore
from tests.conftest import needs_shared_data

pytestmark = needs_shared_data
APP = str(paths.REPO_ROOT / "app.py")


@pytest.fixture(autouse=True)
def fresh_caches():
    """The app caches its store and scheduler per server process; each test has its own app-data folder."""
    st.cache_resource.clear()
    st.cache_data.clear()
    yield
    scheduler.close_all()


COLD_INIT = PagesManager.__init__


@pytest.fixture(autouse=True)
def warm_server(monkeypatch):
    """Each AppTest run starts like a cold server, which treats pages/ as a legacy multipage app until
    app.py's st.navigation has run. A real server is cold once, for its first visitor (the router guard
    hands that visit to app.py: test_a_cold_servers_first_visit_goes_through_the_router); tests see a warm one.
    """

    def warm_init(self, *args, **kwargs):
        COLD_INIT(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "__init__", warm_init)


def page(name: str | None = None, **params: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    if name:
        at.switch_page(f"pages/{name}.py").run()
    assert not at.exception, at.exception
    return at


def wait_for_end(run_id: int, timeout_s: float = 180) -> None:
    store = RunStore()
    deadline = time.time() + timeout_s
    while time.time() < deadline and store.get(run_id).status in ("queued", "running"):
        time.sleep(0.5)


def finished_run(techniques=(), seed=42, model_path=None, name=None, note="", **metrics) -> int:
    store = RunStore()
    config = {"name": name or "+".join(techniques) or "full", "note": note, "seed": seed, "model": {"name": "minilm"},
              "data": {"dataset": "nusax-senti/javanese"}, "train": {"epochs": 3},
              "techniques": [{"name": t, "params": {}} for t in techniques]}  # fmt: skip
    run_id = store.create_run(config, device="cpu")
    defaults = {"accuracy": 0.7, "macro_f1": 0.68, "train_wall_s": 60.0, "energy_kwh": 6e-4, "co2_kg": 3e-4,
                "train_flops": 5e12, "label_names": ["negative", "neutral", "positive"],
                "confusion_matrix": [[1, 0, 0], [0, 1, 0], [0, 0, 1]], "provenance": {}}  # fmt: skip
    store.finish(run_id, "finished", metrics={**defaults, **metrics},
                 curves={"train": [{"step": 1, "epoch": 0.1, "loss": 1.0, "examples_seen": 16, "flops": 1e10,
                                    "elapsed_s": 1.0}], "valid": []}, model_path=model_path)  # fmt: skip
    return run_id


# --- home ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["experiment", "compare", "methods"])
def test_a_cold_servers_first_visit_goes_through_the_router(monkeypatch, name):
    monkeypatch.setattr(PagesManager, "__init__", COLD_INIT)
    at = AppTest.from_file(APP, default_timeout=90)
    at.switch_page(f"pages/{name}.py").run()  # a direct link is the very first request
    assert not at.exception, at.exception
    assert at.title[0].value == name.capitalize()
    assert [t.label for t in at.sidebar.toggle] == ["Presentation mode"], "the router's sidebar is there"


def test_subpages_show_the_shared_sidebar():
    at = page("compare")
    assert at.sidebar.selectbox(key="country").value == "WORLD"


def test_home_explains_the_three_pillars_and_offers_the_demo():
    at = page()
    assert at.title[0].value == "Efficiency Lab"
    text = " ".join(m.value for m in at.markdown)
    assert "Compute" in text and "Data" in text and "Effort" in text
    assert at.button[0].label.startswith("▶ Run the one-minute demo") and not at.button[0].disabled
    assert any("No runs yet" in c.value for c in at.caption)


def test_demo_button_queues_the_preset_and_watches_it():
    at = page()
    at.button[0].click().run()
    assert not at.exception
    run_id = int(at.query_params["run"][0])
    store = RunStore()
    record = store.get(run_id)
    assert record.config["techniques"] == [{"name": "lora", "params": {}}]
    assert record.config["save_model"] is True and record.device == "cpu"
    assert record.config["train"]["time_limit_s"] == 15 * 60  # the teacher's default limit applies
    store.request_stop(run_id)  # a MiniLM run is too long for this test: stop it wherever it got
    wait_for_end(run_id, 120)
    assert store.get(run_id).status == "stopped"


def test_failed_run_shows_its_message_not_a_traceback():
    store = RunStore()
    run_id = store.create_run({"name": "broken", "model": {"name": "tiny"}, "data": {"dataset": "x"}})
    store.finish(run_id, "failed", error="Unknown dataset 'x'. Known: ...", traceback="Traceback ...")
    at = page(run=str(run_id))
    assert "Unknown dataset 'x'" in as_typed(at.error[0].value)
    assert all("Traceback" not in e.value for e in at.error)


MARKDOWN_ELEMENTS = ("markdown", "caption", "error", "warning", "info", "success", "title", "header", "subheader")
NAME, NOTE = "[click](http://x)", "![x](http://elsewhere/p.png) **loud**"


def as_typed(shown: str) -> str:
    """What a viewer reads: Markdown's backslash escapes resolved."""
    import re

    return re.sub(r"\\(.)", r"\1", shown)


def test_user_text_is_shown_as_typed_never_as_markdown_or_chart_html():
    store = RunStore()
    done = finished_run(name=NAME, note=NOTE, label_names=["<a href='http://x'>neg</a>", "neutral", "positive"])
    queued = store.create_run({"name": NAME, "note": NOTE}, device="cpu")
    store.mark_waiting(queued)  # in the sidebar's queue, whose links carry the name as their tooltip
    failed = store.create_run({"name": NAME, "model": {"name": "tiny"}, "data": {"dataset": "x"}})
    store.finish(failed, "failed", error=f"Model '{NAME}' failed: see ![x](http://elsewhere/p.png)")
    for run_id in (done, failed):
        at = page(run=str(run_id))
        shown = [e.value for kind in MARKDOWN_ELEMENTS for e in getattr(at, kind)]
        shown += [link.proto.help for link in at.sidebar.get("page_link")]
        assert not [v for v in shown if "](http" in v or "**loud" in v], "no link, image or bold from user text"
        readable = [as_typed(v) for v in shown]
        assert any(NAME in v for v in readable), "the name is shown as typed"
        assert any(NOTE in v for v in readable) if run_id == done else any("![x](http" in v for v in readable)
        if run_id == done:
            charts = " ".join(c.proto.spec for c in at.get("plotly_chart"))
            assert "<a href" not in charts and "&lt;a href" in charts, "a label is drawn as text by Plotly"
    store.request_stop(queued)


def test_a_calibration_in_progress_shows_in_the_sidebar():
    import os

    marker = paths.app_data_dir() / "calibrating-minilm-cpu.pid"
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(str(os.getpid()), encoding="utf-8")  # a live process holds the device
    captions = [c.value for c in page().sidebar.caption]
    assert any("Measuring this machine for predictions (minilm on cpu)" in c for c in captions)
    assert not any("the machine is free" in c for c in captions)
    marker.write_text("999999999", encoding="utf-8")  # that process has gone
    assert any("the machine is free" in c.value for c in page().sidebar.caption)


def test_a_queued_run_shows_its_position_and_can_be_cancelled():
    store = RunStore()
    first = store.create_run({"name": "a"}, device="cpu")
    store.mark_waiting(first)  # as if a CLI process waited for the device: the scheduler leaves it alone
    second = store.create_run({"name": "b"}, device="cpu")
    at = page(run=str(second))
    assert any("position 2" in i.value for i in at.info)
    queue = [link.proto.label for link in at.sidebar.get("page_link")]  # every page shows the queue
    assert queue == [f"Run {first}: queued #1 on cpu", f"Run {second}: queued #2 on cpu"]
    at.button(key=f"cancel-{second}").click().run()
    assert store.get(second).status == "stopped"
    store.request_stop(first)


# --- experiment -------------------------------------------------------------------------------------------
def test_experiment_trains_a_tiny_model_in_the_background_and_shows_the_result_card():
    at = page("experiment")
    at.selectbox(key="exp.model").set_value("tiny").run()
    at.number_input(key="exp.train.epochs").set_value(1).run()
    at.text_input(key="exp.name").input("tiny from the page").run()
    at.button(key="exp.train-button").click().run()
    assert not at.exception
    run_id = int(at.query_params["run"][0])
    wait_for_end(run_id)
    record = RunStore().get(run_id)
    assert record.status == "finished", record.error
    assert record.name == "tiny from the page" and record.config["train"]["epochs"] == 1
    assert record.environment["libraries"]["torch"], "a worker process ran it through the runner"

    fresh = page("experiment", run=str(run_id))  # as after a browser refresh: the URL holds the run
    labels = [m.label for m in fresh.metric]
    assert "Accuracy" in labels and "Energy" in labels
    assert any("estimated" in md.value for md in fresh.markdown)


def test_the_result_card_reports_the_technique_predicts_sentences_and_repeats_with_seeds():
    from efficiency.config import TechniqueSpec
    from efficiency.runs.runner import run_experiment
    from tests.conftest import tiny_config

    config = tiny_config()
    config.save_model = True
    config.techniques = [TechniqueSpec("quant", {})]
    run_id = run_experiment(config).run_id
    at = page("experiment", run=str(run_id))
    assert any(m.value.startswith("Measured on this run, before and after") for m in at.markdown)
    assert not at.get("json"), "the technique's report is tables, not raw JSON"
    assert any(e.label == "Misclassified test examples" for e in at.expander)
    (card,) = [d for d in at.get("download_button") if d.proto.label == "Run card (Markdown)"]
    assert card.proto.help.endswith("python -m efficiency runs card ID.")
    next(t for t in at.text_input if t.label == "Try a sentence").input("apik banget")
    next(b for b in at.button if b.label == "Predict").click().run()
    assert any(m.value.startswith("Predicted: **") for m in at.markdown), "the kept int8 model predicted"
    repeat = at.button(key=f"repeat-{run_id}")
    repeat.click().run()
    store = RunStore()
    queued = [r for r in store.list() if r.id != run_id]
    assert sorted(r.seed for r in queued) == [config.seed + 1, config.seed + 2]
    assert at.button(key=f"repeat-{run_id}").disabled, "a second click cannot queue two more"
    links = [link.proto.label for link in at.main.get("page_link")]
    assert any(f"Run {queued[0].id}" in label or f"Run {queued[1].id}" in label for label in links)
    assert "Compare with full fine-tuning" in links
    for record in queued:
        store.request_stop(record.id)


def test_a_model_kept_in_the_older_pickled_format_is_not_loaded_and_the_card_says_so(tmp_path):
    from tests.conftest import pickle_payload

    folder = paths.models_dir() / "run-1"
    folder.mkdir()
    (folder / "model.pt").write_bytes(pickle_payload(tmp_path / "ran"))
    run_id = finished_run(model_path=str(folder))
    at = page("experiment", run=str(run_id))
    assert any("older format" in w.value and "train the run again" in w.value for w in at.warning)
    assert not any(t.label == "Try a sentence" for t in at.text_input)
    assert not (tmp_path / "ran").exists()


def test_choosing_an_upload_before_the_file_says_what_to_do():
    at = page("experiment")
    at.selectbox(key="exp.dataset").set_value("⬆ your own CSV/TSV file").run()  # none uploaded yet
    assert not at.exception, at.exception
    assert any("Choose a model and a dataset to go on" in i.value for i in at.info)


def test_a_run_queued_on_an_uploaded_file_keeps_the_file_in_the_store(sentiment_csv, monkeypatch):
    import io

    from efficiency.data.userfile import save_upload

    monkeypatch.setattr(scheduler.Scheduler, "start", lambda self: self)  # the run stays queued for the test
    path = save_upload(io.BytesIO(sentiment_csv.read_bytes()), sentiment_csv.name, paths.uploads_dir())
    at = AppTest.from_file(APP, default_timeout=90)
    at.session_state["exp-upload-path"] = str(path)  # uploaded earlier in this session (AppTest cannot upload)
    at.run()
    at.switch_page("pages/experiment.py").run()
    at.selectbox(key="exp.model").set_value("tiny").run()
    at.selectbox(key="exp.dataset").set_value("⬆ your own CSV/TSV file").run()
    at.button(key="exp.train-button").click().run()
    assert not at.exception, at.exception
    run_id = int(at.query_params["run"][0])
    assert RunStore().get(run_id).dataset == str(path)
    assert RunStore().upload_digest(path.name) is not None, "any machine serving the queue can run it"


def test_switching_a_technique_on_shows_its_settings_and_a_bad_combination_is_refused():
    at = page("experiment")
    at.toggle(key="exp.on.amp").set_value(True).run()
    at.selectbox(key="exp.t.amp.dtype").set_value("fp16").run()
    assert not at.exception
    assert any("fp16" in e.value and "CPU" in e.value for e in at.error)
    assert at.button(key="exp.train-button").disabled
    at.selectbox(key="exp.t.amp.dtype").set_value("bf16").run()
    at.checkbox(key="exp.t.amp.allow_emulated").check().run()
    assert not at.error and not at.button(key="exp.train-button").disabled


def test_the_distillation_teacher_is_chosen_from_kept_full_fine_tuning_runs():
    from efficiency.runs.keep import MANIFEST

    current, older = paths.models_dir() / "current", paths.models_dir() / "older"
    current.mkdir(parents=True)
    (current / MANIFEST).write_text("{}")
    older.mkdir()
    (older / "model.pt").write_bytes(b"")  # kept by an older version: it would not load, so it is not offered
    kept = finished_run(accuracy=0.72, model_path=str(current))
    finished_run(model_path=str(older))
    finished_run()  # not kept: not offered
    finished_run(techniques=("lora",), model_path=str(current))  # kept, but not a plain fine-tuning
    at = page("experiment")
    at.toggle(key="exp.on.distill").set_value(True).run()
    teacher = at.selectbox(key="exp.t.distill.teacher")
    assert teacher.options == ["trained first, in this run", f"run {kept} · acc 0.720 · full"]
    teacher.set_value(str(kept)).run()
    assert not at.exception and not at.error


def test_preview_and_estimate_from_the_calibration():
    save_calibration(Calibration("minilm", "cpu", __import__("socket").gethostname(), train_flops_per_token=1.2e8,
                                 flops_per_s=7.5e10, step_wall_s=1.6, measured_at=time.time(), torch_threads=2,
                                 power_w=36.0, power_method="CodeCarbon test", num_layers=6))  # fmt: skip
    at = page("experiment")
    metrics = {m.label: m.value for m in at.metric}
    seconds = float(metrics["Training + evaluation"].removesuffix(" s"))
    energy_wh = float(metrics["Energy"].removesuffix(" Wh"))  # before any run: the calibration's power
    assert energy_wh == pytest.approx(36.0 * seconds / 3600, rel=0.1)  # shown to 2 digits
    assert metrics["train examples"] == "500" and metrics["test examples"] == "400"
    flops = float(metrics["Training FLOPs"])
    at.radio(key="exp.peft").set_value("lora").run()
    with_lora = float({m.label: m.value for m in at.metric}["Training FLOPs"])
    assert with_lora == pytest.approx(flops * 2 / 3, rel=0.05)  # no weight gradients under LoRA
    assert any("estimated" in md.value for md in at.markdown)


def test_a_hub_id_offline_gets_a_message_not_a_traceback():
    at = page("experiment")
    at.selectbox(key="exp.model").set_value("other").run()
    at.text_input(key="exp.model.other").input("someorg/some-model").run()
    assert not at.exception
    assert any("not available offline" in c.value for c in at.caption)


def test_a_model_name_too_long_for_a_file_name_gets_a_message_not_a_traceback():
    at = page("experiment")
    at.selectbox(key="exp.model").set_value("other").run()
    at.text_input(key="exp.model.other").input("m" * 300).run()
    assert not at.exception, at.exception
    assert any("a file or folder name has at most 255" in as_typed(e.value) for e in at.error)
    assert at.button(key="exp.train-button").disabled


def test_change_a_setting_and_run_again_starts_from_that_run():
    run_id = finished_run(("lora",))
    at = page("experiment", **{"from": str(run_id)})
    assert at.radio(key="exp.peft").value == "lora"


def test_the_experiment_keeps_its_choices_while_the_user_visits_compare():
    at = page("experiment")
    at.radio(key="exp.peft").set_value("lora").run()
    at.toggle(key="exp.on.amp").set_value(True).run()
    at.switch_page("pages/compare.py").run()
    at.switch_page("pages/experiment.py").run()
    assert not at.exception
    assert at.radio(key="exp.peft").value == "lora"
    assert at.toggle(key="exp.on.amp").value


# --- compare, methods, presentation --------------------------------------------------------------------------
def test_compare_draws_the_frontier_and_a_versus_b():
    full = [finished_run(seed=seed, accuracy=acc) for seed, acc in ((42, 0.70), (43, 0.72))]
    lora = finished_run(("lora",), accuracy=0.69, train_wall_s=20.0, co2_kg=1e-4)
    finished_run(("probe",), accuracy=0.55, train_wall_s=30.0)
    at = page("compare", b=str(lora))
    charts = at.get("plotly_chart")
    assert len(charts) >= 2  # the frontier and the re-pricing (the loss curves need a choice of rows)
    sentence = " ".join(m.value for m in at.markdown)
    assert "3.0x faster" in sentence
    assert "-2.0 accuracy points" in sentence
    boxes = {box.label: box.value for box in at.selectbox}
    assert boxes["A (reference)"] == full[0] and boxes["B"] == lora


def test_compare_delete_is_disabled_until_rows_are_selected():
    run_id = finished_run()
    at = page("compare")
    delete = next(b for b in at.button if b.label == "Delete selected")
    assert delete.disabled, "nothing selected: nothing to delete"
    assert RunStore().get(run_id) is not None


def test_compare_with_no_runs_says_how_to_start():
    at = page("compare")
    assert any("No runs yet" in i.value for i in at.info)


def test_methods_page_names_its_limits_and_sources():
    at = page("methods")
    text = " ".join(m.value for m in at.markdown)
    assert "restatement of wall time" in text and "NVML" in text and "Ouyang" in text
    assert len(at.dataframe) >= 4


def test_presentation_mode_enlarges_the_page():
    at = page()
    at.toggle(key="presentation").set_value(True).run()
    assert not at.exception
    assert any("font-size: 22px" in h.proto.body for h in at.get("html"))


def test_presentation_mode_puts_compare_s_chart_first_and_folds_the_table_away():
    finished_run(accuracy=0.70)
    finished_run(("lora",), accuracy=0.69, train_wall_s=20.0)
    at = page("compare")
    at.toggle(key="presentation").set_value(True).run()
    assert not at.exception
    (folded,) = [e for e in at.expander if e.label.startswith("Runs shown")]
    assert len(folded.dataframe) == 1 and len(at.main.dataframe) == 1, "the run table is inside the fold"
    assert at.tabs[0].label == "Accuracy against cost", "one chart at a time"
    (frontier,) = [c for c in at.tabs[0].get("plotly_chart")]
    labels = [a["text"] for a in json.loads(frontier.proto.spec)["layout"]["annotations"]]
    assert sorted(labels) == ["Full fine-tuning", "LoRA r=8"], "points named in words"


def test_measuring_the_machine_stores_a_calibration_the_page_then_uses():
    from efficiency.estimate import load_calibration

    at = page("experiment")
    at.selectbox(key="exp.model").set_value("tiny").run()
    at.button(key="exp.calibrate").click().run()
    assert not at.exception
    deadline = time.time() + 120
    while load_calibration("tiny", "cpu") is None and time.time() < deadline:
        time.sleep(1)
    assert load_calibration("tiny", "cpu") is not None, "the background calibration did not finish"
    at.run()
    assert "Training FLOPs" in {m.label for m in at.metric}


def test_the_experiment_shows_the_techniques_by_pillar_with_their_titles():
    """The registry drives the page: three pillar columns, a radio for what trains, toggles in registry order."""
    at = page("experiment")
    headings = [m.value for m in at.markdown if m.value.startswith("##### :material/")]
    assert headings[:3] == ["##### :material/menu_book: Data", "##### :material/tune: Effort",
                            "##### :material/settings: Compute"]  # fmt: skip
    toggles = [t.label for t in at.toggle if t.key and t.key.startswith("exp.on.")]
    assert toggles == ["Data filtering", "Distillation", "Pruning", "Mixed precision", "Quantization"]
    radio = at.radio(key="exp.peft")
    assert radio.label == "Parameter-efficient fine-tuning"
    assert radio.options == ["none: train every weight", "LoRA", "Prefix tuning", "IA³", "BitFit",
                             "Freeze lower layers", "Linear probe"]  # fmt: skip


# --- lessons ------------------------------------------------------------------------------------------------------
TINY_LESSON = paths.REPO_ROOT / "tests" / "lessons" / "tiny.toml"


def test_lessons_page_lists_every_shipped_lesson_by_pillar():
    from efficiency.lessons import shipped_lessons

    at = page("lessons")
    headings = [m.value for m in at.markdown if m.value.startswith("#####")]
    assert [h.split()[-1] for h in headings] == ["Data", "Effort", "Compute"]
    captions = [as_typed(c.value) for c in at.caption]
    for lesson in shipped_lessons():
        assert lesson.question in captions, lesson.name
    assert sum("runs done" in c for c in captions) == len(shipped_lessons())


def test_a_lesson_file_with_markdown_in_it_is_shown_as_typed():
    from efficiency.lessons.catalog import add_own_lesson

    text = TINY_LESSON.read_text(encoding="utf-8").replace(
        'question = "Does LoRA train fewer weights?"', 'question = "![x](http://elsewhere/p.png) [click](http://x)"'
    )
    add_own_lesson(text)
    at = page("lessons", lesson="tiny-lora")
    assert any(as_typed(m.value).endswith("![x](http://elsewhere/p.png) [click](http://x)") for m in at.markdown)
    assert not any("](http" in m.value.replace("\\]", "").replace("\\(", "") for m in at.markdown)


@needs_shared_data
def test_a_lesson_records_guesses_runs_once_and_shows_its_verdict_beside_them():
    from efficiency.lessons import find_lesson, plan_lesson
    from efficiency.lessons.catalog import add_own_lesson
    from efficiency.lessons.predict import choices

    add_own_lesson(TINY_LESSON.read_text(encoding="utf-8"))
    at = page("lessons", lesson="tiny-lora")
    lesson = find_lesson("tiny-lora")
    at.radio(key="guess-tiny-lora-0").set_value(choices(lesson.checks[0], lesson)[0])
    next(b for b in at.button if b.label == "Record my guesses").click().run()
    assert any("1 of 2 guesses recorded" in c.value for c in at.caption)
    next(b for b in at.button if b.label.startswith("Run this lesson")).click().run()
    assert not at.exception
    store = RunStore()
    queued = [r.id for r in store.list()]
    assert len(queued) == 2 and len({r.request for r in store.list()}) == 1, "one request for the lesson's runs"
    for run_id in queued:
        wait_for_end(run_id)
    at.run()
    assert not any(b.label.startswith("Run this lesson") for b in at.button), "nothing left to train"
    shown = " ".join(as_typed(m.value) for m in at.markdown) + " ".join(as_typed(c.value) for c in at.caption)
    assert "Verdict:" in shown and "reproduced" in shown
    assert "Your guess: LoRA r=4: trainable parameters under 50% of Full fine-tuning's. The runs agree." in shown
    assert plan_lesson(lesson, store).done
    assert len(at.get("plotly_chart")) == 1


def test_a_lesson_about_energy_shows_its_cost_in_everyday_terms_on_other_grids_and_at_scale(monkeypatch):
    from efficiency.lessons import evaluate
    from efficiency.ui import lesson_view

    full = {"train_flops": 5.5e12, "train_wall_s": 75.0, "energy_kwh": 7e-4, "total_params": 22_714_371}
    tfidf = {"energy_kwh": 1e-6, "train_wall_s": 0.7}
    measured = {"tfidf": [tfidf, tfidf], "full": [full, full], "lora": [full, full]}
    monkeypatch.setattr(lesson_view, "lesson_result", lambda lesson, store, plan: evaluate(lesson, measured))
    at = page("lessons", lesson="cost-at-scale")
    shown = " ".join(as_typed(m.value) for m in at.markdown) + " ".join(as_typed(c.value) for c in at.caption)
    assert "What these runs cost" in shown and "0.7 Wh and" in shown and "web searches" in shown
    everyday = at.dataframe[0].value
    assert list(everyday.columns) == ["everyday thing", "TF-IDF + logistic regression", "MiniLM, full fine-tuning",
                                      "MiniLM, LoRA r=8", "source"]  # fmt: skip
    assert everyday["source"].str.len().min() > 20 and "Google (2009)" in everyday["source"].iloc[0]
    assert "Method: estimate:" in shown and "kWh" in shown
    assert [c.key for c in at.get("plotly_chart")] == ["lesson-reprice-cost-at-scale"], "no accuracy: only the grids"
    at.number_input(key="scale-params-cost-at-scale").set_value(22.714371).run()
    at.number_input(key="scale-data-cost-at-scale").set_value(1.0).run()
    shown = " ".join(as_typed(m.value) for m in at.markdown)
    assert "About **75 s** of this machine, **0.0007 kWh**" in shown, "its own size on its own data: the run itself"


def test_on_a_class_server_only_the_pin_unlocks_teacher_settings_and_wrong_tries_wait(monkeypatch):
    from efficiency.ui.identity import pin_guard

    monkeypatch.setenv("EFFLAB_TEACHER_PIN", "4711")
    pin_guard.clear()  # one guard per server: this test's server has a PIN
    try:
        at = page("lessons")
        assert any("only the teacher adds lessons" in c.value for c in at.caption)
        for attempt in range(3):
            at.text_input(key="teacher-pin").set_value(f"000{attempt}").run()
        assert any("Wait 2 s" in c.value for c in at.sidebar.caption)
        assert not any(n.label.startswith("Longest run allowed") for n in at.number_input)
        time.sleep(2.1)
        at.text_input(key="teacher-pin").set_value("4711").run()
        assert any(n.label.startswith("Longest run allowed") for n in at.number_input)
        assert not any("only the teacher adds lessons" in c.value for c in at.caption)
    finally:
        pin_guard.clear()


# --- the class server ---------------------------------------------------------------------------------------------
def test_on_a_class_server_students_cannot_cancel_each_others_runs_but_the_teacher_can(monkeypatch):
    from efficiency.owners import Actor, new_token
    from efficiency.ui.identity import pin_guard

    monkeypatch.setenv("EFFLAB_CLASS", "1")
    monkeypatch.setenv("EFFLAB_TEACHER_PIN", "4711")
    monkeypatch.setattr(scheduler.Scheduler, "start", lambda self: self)  # the runs stay queued for the test
    pin_guard.clear()
    ani, budi = new_token(), new_token()
    store = RunStore()
    config = {"name": "ani's run", "seed": 42, "model": {"name": "tiny"}, "data": {"dataset": "nusax-senti/javanese"},
              "train": {"epochs": 1}, "techniques": []}  # fmt: skip
    run_id = store.create_run(config, device="cpu", owner=Actor.student(ani, "Ani"))
    try:
        as_budi = page("experiment", run=str(run_id), me=budi)
        assert not any(b.label == "Cancel this run" for b in as_budi.button), "not Budi's run"
        assert any("Ani's run: only its owner or the teacher can stop it" in as_typed(c.value) for c in as_budi.caption)
        as_budi.text_input(key="teacher-pin").set_value("4711").run()  # Budi's browser, now the teacher's
        assert any(b.label == "Cancel this run" for b in as_budi.button), "the teacher may cancel any run"
        as_ani = page("experiment", run=str(run_id), me=ani)
        next(b for b in as_ani.button if b.label == "Cancel this run").click().run()
        assert not as_ani.exception
        assert store.get(run_id).stop_requested or store.get(run_id).status != "queued", "Ani cancelled her own run"
        assert ani not in json.dumps(store.get(run_id).__dict__, default=str), "the store keeps no token"
    finally:
        pin_guard.clear()


def test_the_teacher_sees_the_class_by_student_and_its_leaderboard_named_by_student(monkeypatch):
    from efficiency.owners import Actor, new_token
    from efficiency.ui.identity import pin_guard

    monkeypatch.setenv("EFFLAB_CLASS", "1")
    monkeypatch.setenv("EFFLAB_TEACHER_PIN", "4711")
    pin_guard.clear()
    store = RunStore()
    for name, accuracy, energy in (("Ani", 0.70, 6e-4), ("Budi", 0.66, 3e-4)):
        config = {"name": "run", "seed": 42, "model": {"name": "minilm"}, "data": {"dataset": "nusax-senti/javanese"},
                  "train": {"epochs": 3}, "techniques": []}  # fmt: skip
        run_id = store.create_run(config, device="cpu", owner=Actor.student(new_token(), name))
        store.finish(run_id, "finished", metrics={"accuracy": accuracy, "train_wall_s": 60.0, "energy_kwh": energy})
    try:
        at = page("compare", me=new_token())
        assert not any(e.label.startswith("Class view") for e in at.expander), "students do not see it"
        at.text_input(key="teacher-pin").set_value("4711").run()
        (view,) = [e for e in at.expander if e.label.startswith("Class view")]
        students = view.dataframe[0].value
        assert sorted(students["student"]) == ["Ani", "Budi"] and list(students["finished"]) == [1, 1]
        (board,) = view.get("plotly_chart")
        labels = [a["text"] for a in json.loads(board.proto.spec)["layout"]["annotations"]]
        assert any(label.startswith("Ani (run") for label in labels) and any(lb.startswith("Budi") for lb in labels)
    finally:
        pin_guard.clear()


def test_the_hub_s_marathi_models_are_offered_only_when_the_hub_answers(monkeypatch):
    import efficiency.model_names as names
    from efficiency.ui.resources import hub_online

    hub_online.clear()
    at = page("experiment")
    assert "l3cube-pune/marathi-bert-v2" not in at.selectbox(key="exp.model").options, "offline here"
    monkeypatch.setattr(names, "hub_reachable", lambda timeout_s=3.0: True)
    hub_online.clear()
    try:
        at = page("experiment")
        options = at.selectbox(key="exp.model").options
        assert options[-1].startswith("Another model") and any(o.startswith("MahaBERT v2") for o in options)
    finally:
        hub_online.clear()


@needs_shared_data
def test_the_languages_lesson_shows_the_tokenizer_lens_per_language_and_on_the_student_s_sentence(monkeypatch):
    from efficiency import tokens

    three = ["nusax-senti/english", "nusax-senti/javanese", "mahasent-mr"]  # of the ~23 the page reads: seconds each
    monkeypatch.setattr(tokens, "dataset_names", lambda name: three if name is None else [name])
    at = page("lessons", lesson="languages-tokenizers")
    lens = at.dataframe[0].value
    assert list(lens["source"]) == three
    by_source = lens.set_index("source")
    assert by_source.loc["mahasent-mr", "fertility"] > by_source.loc["nusax-senti/english", "fertility"]
    assert by_source.loc["mahasent-mr", "lost_share"] > 0.05, "the uncased normaliser strips Devanagari's vowel signs"
    at.text_input(key="lens-text-minilm").set_value("Aku seneng banget karo film iki").run()
    assert not at.exception
    assert "seneng" in at.code[0].value.replace("##", "") or "sen" in at.code[0].value
    assert any("pieces for 6 words" in c.value for c in at.caption)


def test_the_teacher_reorders_the_queue_on_the_class_view_and_a_student_is_refused(monkeypatch):
    from efficiency.fair_queue import fair_order
    from efficiency.owners import Actor, new_token
    from efficiency.ui.identity import pin_guard

    monkeypatch.setenv("EFFLAB_CLASS", "1")
    monkeypatch.setenv("EFFLAB_TEACHER_PIN", "4711")
    monkeypatch.setattr(scheduler.Scheduler, "start", lambda self: self)  # the runs stay queued for the test
    monkeypatch.setenv("EFFLAB_STORE", f"sqlite:///{paths.app_data_dir() / 'class.sqlite'}")  # a class's store
    pin_guard.clear()
    store = RunStore()
    config = {"name": "run", "seed": 42, "model": {"name": "tiny"}, "data": {"dataset": "nusax-senti/javanese"},
              "train": {"epochs": 1}, "techniques": []}  # fmt: skip
    ani, budi = Actor.student(new_token(), "Ani"), Actor.student(new_token(), "Budi")
    first, second, budis = (store.create_run(config, device="cpu", owner=who) for who in (ani, ani, budi))

    def queue() -> list[int]:
        return [r.id for r in fair_order([r for r in store.active() if r.status == "queued"], [])]

    try:
        as_student = page("compare", me=budi.token)
        assert not any(str(b.key).startswith("class-queue-") for b in as_student.button), "no reordering for a student"
        assert any("Requests waiting per student: 3." in c.value for c in as_student.sidebar.caption), "read-only"
        as_teacher = page("compare", me=new_token())
        as_teacher.text_input(key="teacher-pin").set_value("4711").run()
        (view,) = [e for e in as_teacher.expander if e.label.startswith("Class view")]
        assert [t.value for t in view.text][:3] == [f"1. Run {first}: run (Ani)", f"2. Run {budis}: run (Budi)",
                                                    f"3. Run {second}: run (Ani)"]  # fmt: skip
        next(n for n in as_teacher.number_input if n.label == "Requests waiting per student").set_value(5).run()
        assert store.read_settings()["queue_quota"] == 5, "the class's store holds the teacher's settings"
        as_teacher.button(key=f"class-queue-front-{second}").click().run()
        assert queue() == [second, first, budis]
        as_teacher.button(key=f"class-queue-up-{budis}").click().run()
        assert queue() == [second, budis, first]
        shown = [link.proto.label for link in as_teacher.sidebar.get("page_link")]  # every browser's queue panel
        assert shown[0] == f"Run {second}: queued #1 on cpu" and shown[2] == f"Run {first}: queued #3 on cpu"
        # The PIN typed wrong in the same browser: a student now, whose click is refused in words.
        as_teacher.text_input(key="teacher-pin").set_value("0000")
        as_teacher.button(key=f"class-queue-front-{first}").click().run()
        assert any("Only the teacher can reorder the queue" in as_typed(e.value) for e in as_teacher.error)
        assert queue() == [second, budis, first], "the refused move changed nothing"
        assert not any(e.label.startswith("Class view") for e in as_teacher.expander)
    finally:
        pin_guard.clear()
