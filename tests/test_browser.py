"""The app in a real browser: headless Debian Chromium driven by Playwright.

One story, as a class would live it: a student trains a tiny model from the Experiment page and
reloads mid-run (the page re-attaches: the run id lives in the URL); a second student, in another
browser context, queues a run and sees its position; the first stops their run (what was measured
is kept); the second run then trains and finishes; Compare shows its point on the chart.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from efficiency.appserver import serving
from tests.conftest import needs_shared_data

CHROMIUM = "/usr/bin/chromium"
pytestmark = [
    pytest.mark.browser,
    needs_shared_data,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed (make test installs it)"),
]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"]
TINY = "Tiny BERT: 2 layers, random init (seconds; for a quick look)"


@pytest.fixture
def server():
    with serving() as url:
        yield url


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


def choose(page, label: str, option: str) -> None:
    page.get_by_role("combobox", name=label).click()
    page.get_by_role("option", name=option, exact=True).click()


def queue_tiny_run(page, url: str, name: str, epochs: int) -> str:
    """Build a tiny-model experiment on the Experiment page and press Train; returns the run id."""
    page.goto(f"{url}/experiment")
    page.get_by_role("heading", name="Experiment", exact=True).wait_for(timeout=60_000)
    # The router ran (its sidebar is there), even when this direct link is a cold server's first visit.
    page.get_by_text("Country for CO₂").wait_for(timeout=30_000)
    choose(page, "Model", TINY)
    page.get_by_text("Advanced: training, data and measurement settings").click()
    epochs_box = page.get_by_role("spinbutton", name="epochs", exact=True)
    epochs_box.fill(str(epochs))
    epochs_box.press("Enter")
    name_box = page.get_by_role("textbox", name="Name", exact=True)
    name_box.fill(name)
    name_box.press("Enter")
    train = page.get_by_role("button", name="Train", exact=True)
    page.wait_for_timeout(1500)  # let the last widget's rerun settle before the click
    train.click()
    page.wait_for_url(re.compile(r".*[?&]run=\d+"), timeout=60_000)
    return re.search(r"run=(\d+)", page.url).group(1)


def stop_run(page) -> None:
    """Press Stop and see it acknowledged; a press landing mid-refresh gets one more try, as a user would."""
    acknowledged = page.get_by_text(re.compile(r"Stopping at the next step|Stopped at step \d+")).first
    for attempt in range(2):
        try:  # a rerun may briefly draw the button twice, or have hidden it once the stop was taken
            # Our button by its widget key: Streamlit's own header shows a "Stop" (stop the script) while a
            # page reruns, and the live view reruns every second, so a click by name alone can land there.
            page.locator("[class*='st-key-stop-']").get_by_role("button", name="Stop").first.click(timeout=10_000)
        except Exception:
            if attempt == 0:
                raise
        try:
            acknowledged.wait_for(timeout=30_000)
            return
        except Exception:
            if attempt:
                raise


@pytest.mark.timeout(600)
def test_train_reload_queue_stop_and_compare(server, browser, tmp_path):
    first = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    second = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    try:
        story(server, first, second, tmp_path)
    except Exception:
        for name, page in (("first", first), ("second", second)):  # what each student saw, in the CI log
            print(f"--- {name} page at {page.url}:\n{page.inner_text('body')[:3000]}")
        raise


def story(server, first, second, tmp_path) -> None:
    # Long enough that it is still training when Stop is pressed, however slow the machine (it is stopped).
    run_one = queue_tiny_run(first, server, "browser run one", epochs=300)
    first.get_by_text(re.compile(r"step \d+ of \d+")).first.wait_for(timeout=180_000)  # live progress
    run_url = first.url
    first.reload()
    assert first.url == run_url
    first.get_by_text(f"Run {run_one}: browser run one").wait_for(timeout=60_000)
    first.get_by_text(re.compile(r"step \d+ of \d+")).first.wait_for(timeout=60_000)  # re-attached, still live

    run_two = queue_tiny_run(second, server, "browser run two", epochs=1)
    second.get_by_text(re.compile(r"Queued: position 1 for cpu")).wait_for(timeout=60_000)
    second.screenshot(path=str(tmp_path / "queued.png"), full_page=True)

    stop_run(first)
    first.get_by_text(re.compile(r"Stopped at step \d+")).wait_for(timeout=120_000)
    first.get_by_text("Accuracy", exact=True).first.wait_for()  # what was measured is kept
    first.screenshot(path=str(tmp_path / "stopped.png"), full_page=True)

    second.get_by_text(f"Run {run_two}: browser run two").wait_for(timeout=60_000)
    second.get_by_text("Accuracy", exact=True).first.wait_for(timeout=300_000)  # it ran after the stop
    second.get_by_text("estimated", exact=True).first.wait_for()

    first.goto(f"{server}/compare?dataset=nusax-senti/javanese&b={run_two}")
    chart = first.locator(".js-plotly-plot").first
    chart.wait_for(timeout=60_000)
    chart.get_by_text("Full fine-tuning").first.wait_for(timeout=30_000)  # the new point, named in words
    first.screenshot(path=str(tmp_path / "compare.png"), full_page=True)


@pytest.mark.timeout(300)
def test_compare_deletes_a_selected_run_after_a_confirmation(browser):
    from efficiency.store import RunStore

    store = RunStore()
    config = {"name": "to delete", "seed": 42, "model": {"name": "minilm"},
              "data": {"dataset": "nusax-senti/javanese"}, "train": {"epochs": 3}, "techniques": []}  # fmt: skip
    run_id = store.create_run(config, device="cpu")
    store.finish(run_id, "finished", metrics={"accuracy": 0.7, "macro_f1": 0.68, "train_wall_s": 60.0})
    with serving() as url:  # after the run exists: the server shares this test's app-data folder
        page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        page.goto(f"{url}/compare")
        grid = page.locator('[data-testid="stDataFrame"]').first
        grid.wait_for(timeout=60_000)
        delete = page.get_by_role("button", name="Delete selected", exact=True)
        assert delete.is_disabled(), "nothing selected: nothing to delete"
        box = grid.bounding_box()
        page.mouse.click(box["x"] + 18, box["y"] + 35 + 17)  # the first row's checkbox, under the header row
        delete.wait_for(state="visible")
        page.wait_for_function(
            "() => [...document.querySelectorAll('button')].some(b => b.innerText.includes('Delete selected') && !b.disabled)",
            timeout=30_000,
        )
        delete.click()
        dialog = page.get_by_role("dialog")
        dialog.get_by_text(f"Delete run(s) {run_id}").wait_for(timeout=30_000)
        assert store.get(run_id) is not None, "only after the confirmation"
        dialog.get_by_role("button", name="Delete", exact=True).click()
        page.get_by_text(f"Deleted run(s) {run_id}.").wait_for(timeout=30_000)
    assert store.get(run_id) is None


# --- presentation mode at a projector's 1280x720 ------------------------------------------------------------------
PROJECTOR = {"width": 1280, "height": 720}
SIX_EXPERIMENTS = [  # techniques, accuracy, training seconds: two sit on top of each other, some crowd
    ([], 0.72, 60.0),
    ([("quant", {})], 0.72, 61.0),
    ([("lora", {})], 0.70, 45.0),
    ([("filter", {"method": "random", "keep": 0.5})], 0.69, 44.0),
    ([("prune", {"method": "layers", "sparsity": 0.5})], 0.66, 35.0),
    ([("probe", {})], 0.55, 30.0),
    ([("amp", {})], 0.715, 58.0),
]
IN_WORDS = ["Full fine-tuning", "int8 after training", "LoRA r=8", "Random half of the data", "Half the layers removed",
            "Linear probe", "bf16 mixed precision"]  # fmt: skip
MEASURE_CHART = """() => {
  const chart = document.querySelector('[data-testid="stPlotlyChart"]');
  const texts = [...chart.querySelectorAll('svg text')].filter(t => t.textContent.trim());
  const labels = [...chart.querySelectorAll('g.annotation text')].map(t => {
    const r = t.getBoundingClientRect(); return {text: t.textContent, box: [r.left, r.top, r.right, r.bottom]}; });
  const cut = [...document.querySelectorAll('[data-testid="stMain"] [data-testid="stWidgetLabel"] p')]
    .filter(p => p.scrollWidth > p.clientWidth + 1).map(p => p.textContent);
  const r = chart.getBoundingClientRect();
  return {chart: [r.top, r.bottom], smallest_px: Math.min(...texts.map(t => parseFloat(getComputedStyle(t).fontSize))),
          labels, cut};
}"""


def overlapping(labels: list[dict]) -> list[tuple[str, str]]:
    pairs = []
    for i, a in enumerate(labels):
        for b in labels[i + 1 :]:
            (l1, t1, r1, b1), (l2, t2, r2, b2) = a["box"], b["box"]
            if l1 < r2 and l2 < r1 and t1 < b2 and t2 < b1:
                pairs.append((a["text"], b["text"]))
    return pairs


@pytest.mark.timeout(300)
def test_presentation_mode_shows_compare_s_chart_first_large_and_named_in_words(browser, tmp_path):
    from efficiency.store import RunStore

    store = RunStore()
    for techniques, accuracy, wall_s in SIX_EXPERIMENTS:
        config = {"name": "run", "seed": 42, "model": {"name": "minilm"}, "data": {"dataset": "nusax-senti/javanese"},
                  "train": {"epochs": 3}, "techniques": [{"name": n, "params": p} for n, p in techniques]}  # fmt: skip
        run_id = store.create_run(config, device="cpu")
        store.finish(run_id, "finished", metrics={"accuracy": accuracy, "macro_f1": accuracy, "train_wall_s": wall_s})
    with serving() as url:
        page = browser.new_context(viewport=PROJECTOR).new_page()
        page.goto(f"{url}/compare")
        page.get_by_text("Presentation mode").first.click()
        page.locator("g.annotation").first.wait_for(timeout=60_000)
        page.get_by_text("Runs shown: filters, table and export").wait_for()  # folded away, under the chart
        page.wait_for_timeout(1500)  # the chart's last redraw
        seen = page.evaluate(MEASURE_CHART)
        page.screenshot(path=str(tmp_path / "presentation-compare.png"))
        top, bottom = seen["chart"]
        assert top >= 0 and bottom <= PROJECTOR["height"], f"the chart is on the first screen: {top}..{bottom}"
        assert seen["smallest_px"] >= 16, seen["smallest_px"]
        assert overlapping(seen["labels"]) == []
        named = " ".join(label["text"] for label in seen["labels"])
        assert all(words in named for words in IN_WORDS), named
        assert "(" not in named, "no raw config strings"
        assert seen["cut"] == [], f"labels cut short: {seen['cut']}"
        point = page.locator("g.points path").first.bounding_box()
        page.mouse.move(point["x"] + point["width"] / 2, point["y"] + point["height"] / 2)
        hover = page.locator("g.hovertext text").first
        hover.wait_for(timeout=10_000)
        assert float(hover.evaluate("t => parseFloat(getComputedStyle(t).fontSize)")) >= 16


@pytest.mark.timeout(300)
def test_a_student_opens_a_lesson_records_a_guess_runs_it_and_sees_the_verdict(browser, tmp_path):
    from efficiency.lessons.catalog import add_own_lesson
    from efficiency.paths import REPO_ROOT

    add_own_lesson((REPO_ROOT / "tests" / "lessons" / "tiny.toml").read_text(encoding="utf-8"))
    with serving() as url:
        page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        page.goto(f"{url}/lessons")
        page.get_by_role("button", name="LoRA on the tiny model").click()
        page.get_by_text("Your guess first.").wait_for(timeout=60_000)
        page.get_by_text("LoRA r=4: trainable parameters under 50% of Full fine-tuning's").first.click()
        page.get_by_role("button", name="Record my guesses").click()
        page.get_by_text("1 of 2 guesses recorded").wait_for(timeout=30_000)
        page.get_by_role("button", name=re.compile("^Run this lesson")).click()
        page.get_by_text("Verdict:").wait_for(timeout=240_000)  # two tiny runs train, then the page answers
        page.get_by_text("The runs agree.").wait_for(timeout=30_000)
        page.screenshot(path=str(tmp_path / "lesson.png"), full_page=True)


@pytest.mark.timeout(600)
def test_on_a_class_server_a_student_cannot_stop_another_s_run_and_the_teacher_can(browser, tmp_path):
    with serving(env={"EFFLAB_TEACHER_PIN": "4711"}, as_class=True) as url:  # make class's entry point
        ani = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        budi = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        teacher = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        run_id = queue_tiny_run(ani, url, "ani's long run", epochs=60)
        try:
            see_the_teacher_stop_it(url, run_id, ani, budi, teacher)
        except Exception:
            for name, page in (("ani", ani), ("budi", budi), ("teacher", teacher)):  # what each saw, for the log
                page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)
                print(f"--- {name} at {page.url}:\n{page.inner_text('body')[:2000]}")
            raise
        finally:  # never leave a worker training behind a failed test
            from efficiency.store import RunStore

            RunStore().request_stop(int(run_id))


def open_expander(page, title: str, inside) -> None:
    """Open an expander by its title until `inside` shows: a click during a redraw can be lost or fold it again."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    details = page.locator("[data-testid='stExpander'] details").filter(has_text=title).first
    for _ in range(10):  # a busy machine can redraw the sidebar between the click and its content
        if details.get_attribute("open", timeout=30_000) is None:
            details.locator("summary").click()
        try:
            inside.wait_for(timeout=10_000)
            return
        except PlaywrightTimeoutError:
            continue
    raise AssertionError(f"the expander {title!r} did not open")


def see_the_teacher_stop_it(url: str, run_id: str, ani, budi, teacher) -> None:
    ani.locator("[class*='st-key-stop-']").get_by_role("button", name="Stop").wait_for(timeout=120_000)
    budi.goto(f"{url}/experiment?run={run_id}", timeout=90_000)
    budi.get_by_text("only its owner or the teacher can stop it").first.wait_for(timeout=60_000)
    assert budi.locator("[class*='st-key-stop-']").count() == 0, "no Stop on another student's run"
    teacher.goto(f"{url}/experiment?run={run_id}", timeout=90_000)
    teacher.get_by_text("only its owner or the teacher can stop it").first.wait_for(timeout=60_000)
    pin = teacher.get_by_role("textbox", name="Teacher PIN")
    open_expander(teacher, "Teacher settings", pin)
    pin.fill("4711")
    pin.press("Enter")
    teacher.locator("[class*='st-key-stop-']").get_by_role("button", name="Stop").wait_for(timeout=60_000)
    stop_run(teacher)  # the teacher may stop any run
    ani.get_by_text(re.compile(r"Stopping at the next step|Stopped at step \d+")).first.wait_for(timeout=60_000)
