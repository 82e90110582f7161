"""The Lessons page's pieces: the lessons by pillar, then one lesson from its question to its verdict.

A lesson's text comes from a file a teacher may have written, so every string of it is shown as typed
(escaped), never as Markdown. The verdicts are computed from the runs in the store (efficiency/lessons/).
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from efficiency import charts
from efficiency.compare import countries_to_reprice, pareto_mask, reprice
from efficiency.errors import EfficiencyError
from efficiency.figures import costs, figure, in_sentence, qualities, shown
from efficiency.lessons import (
    INCONCLUSIVE,
    NOT_REPRODUCED,
    REPRODUCED,
    Lesson,
    LessonError,
    LessonResult,
    Plan,
    plan_lesson,
)
from efficiency.lessons.catalog import add_own_lesson
from efficiency.lessons.cost import (
    SCALE_DATA_FACTOR,
    SCALE_PARAMS_M,
    LessonCost,
    about_cost,
    duration_words,
    lesson_cost,
)
from efficiency.lessons.minutes import Minutes, estimate_minutes
from efficiency.lessons.predict import choices, supported
from efficiency.lessons.result import lesson_result
from efficiency.techniques import PILLARS
from efficiency.ui.display import chart, pillar_heading, presenting
from efficiency.ui.identity import teacher_unlocked
from efficiency.ui.pacing import refresh_s
from efficiency.ui.plain import escaped, show_error, show_warning
from efficiency.ui.queueing import submit_lesson
from efficiency.ui.resources import get_store
from efficiency.ui.router import PAGES, page_link
from efficiency.ui.side_panel import chosen_country

VERDICT_LOOK = {  # colour and icon of each verdict's badge
    REPRODUCED: ("green", ":material/check_circle:"),
    NOT_REPRODUCED: ("red", ":material/cancel:"),
    INCONCLUSIVE: ("orange", ":material/help:"),
}
MAX_LESSON_BYTES = 256 * 2**10
GUESSES = "lesson-guesses"  # session state: {lesson name: {check index: the guess}}


# --- the catalogue -------------------------------------------------------------------------------------------
def lesson_index(lessons: list[Lesson], problems: list[str]) -> None:
    """Every lesson by pillar: its question, whether its runs are done, its minutes on this machine."""
    st.caption(
        "Each lesson asks a question a paper answered, runs the experiments that answer it here, and says "
        "from those runs whether the finding held: reproduced, not reproduced, or inconclusive (inside "
        "run-to-run noise). Runs already in the lab are reused, so a lesson someone ran before answers at once."
    )
    store = get_store()
    for column, pillar in zip(st.columns(len(PILLARS)), PILLARS, strict=True):
        with column:
            pillar_heading(pillar)
            for lesson in (lesson for lesson in lessons if lesson.pillar == pillar):
                lesson_tile(lesson, plan_lesson(lesson, store))
    for problem in problems:
        show_warning(problem)
    add_a_lesson()


def lesson_tile(lesson: Lesson, plan: Plan) -> None:
    with st.container(border=True):
        # A button, not a page link: a link to the page already open keeps its address as it was.
        st.button(escaped(lesson.title), key=f"open-{lesson.name}", type="tertiary", on_click=open_lesson,
                  args=(lesson.name,))  # fmt: skip
        st.caption(escaped(lesson.question))
        finished = sum(item.status == "finished" for item in plan.items)
        if plan.done:
            st.caption(f":material/check_circle: all {len(plan.items)} runs done: the verdict is ready")
        else:
            st.caption(f"{finished} of {len(plan.items)} runs done · {minutes_text(lesson, plan)}")


def minutes_text(lesson: Lesson, plan: Plan) -> str:
    minutes = cached_minutes(lesson.name, tuple(item.status for item in plan.items), plan)
    if minutes.left is None:
        return "minutes unknown until this machine is measured (Experiment page)"
    return f"about {minutes.left:.0f} min to train here (estimate)"


@st.cache_data(ttl=600, show_spinner=False, max_entries=200)
def cached_minutes(name: str, statuses: tuple[str, ...], _plan: Plan) -> Minutes:
    """The estimate reads tokenizers and datasets: once per lesson and state of its runs, not per rerun."""
    return estimate_minutes(_plan)


def add_a_lesson() -> None:
    """A teacher's own lesson file, checked, then listed with the others (on a class server: teacher only)."""
    with st.expander("Add a lesson file (.toml)"):
        if not teacher_unlocked():
            st.caption("On this class server only the teacher adds lessons: enter the PIN under Teacher settings.")
            return
        st.caption("README's Lessons section has a complete example. The file is checked before it is kept.")
        upload = st.file_uploader("Lesson file", type=["toml"], key="lesson-upload")
        if upload is None:
            return
        if upload.size > MAX_LESSON_BYTES:
            show_error(f"{upload.name} is {upload.size / 2**10:.0f} KiB: a lesson file is text, at most 256 KiB.")
            return
        try:
            lesson = add_own_lesson(upload.getvalue().decode("utf-8"), source=upload.name)
        except UnicodeDecodeError:
            show_error(f"{upload.name} is not UTF-8 text: save it as UTF-8.")
        except LessonError as exc:
            show_error(str(exc))
        else:
            st.success(f"Added: {escaped(lesson.title)}.", icon=":material/check:")


# --- one lesson ----------------------------------------------------------------------------------------------
def open_lesson(name: str | None) -> None:
    """Show one lesson (None: all of them); the address says which, so it can be shared and reloaded."""
    if name is None:
        st.query_params.pop("lesson", None)
    else:
        st.query_params["lesson"] = name


def lesson_detail(lesson: Lesson) -> None:
    st.button("All lessons", icon=":material/arrow_back:", type="tertiary", on_click=open_lesson, args=(None,))
    st.subheader(escaped(lesson.title))
    store = get_store()
    plan = plan_lesson(lesson, store)
    result = lesson_result(lesson, store, plan)
    if presenting():  # the chart and the verdict, large; the rest folds away
        answer(lesson, result)
        with st.expander("The question, the guesses and the runs"):
            question(lesson)
            predict(lesson)
            run_lesson(lesson, plan, result)
        return
    question(lesson)
    if lesson.tokenizer_lens:
        tokenizer_lens(lesson.tokenizer_lens)
    guesses = predict(lesson)
    run_lesson(lesson, plan, result)
    if any(result.figures.values()):
        answer(lesson, result, guesses)


def question(lesson: Lesson) -> None:
    st.markdown(f"**The question.** {escaped(lesson.question)}")
    st.markdown(f"**What the paper found.** {escaped(lesson.claim)}")
    st.caption(escaped(lesson.citation))
    if lesson.note:
        st.info(escaped(lesson.note), icon=":material/info:")
    if lesson.watch:
        st.markdown(f"**Watch.** {escaped(lesson.watch)}")


def predict(lesson: Lesson) -> dict[int, str]:
    """Write down a guess for each check before the runs answer; kept with this browser's session."""
    kept = st.session_state.setdefault(GUESSES, {}).get(lesson.name, {})
    with st.form(f"guess-{lesson.name}"):
        st.markdown("**Your guess first.** What will this machine's runs show?")
        picked = {}
        for i, check in enumerate(lesson.checks):
            options = list(choices(check, lesson))
            picked[i] = st.radio(
                escaped(check.says),
                options,
                index=options.index(kept[i]) if i in kept and kept[i] in options else None,
                format_func=escaped,
                key=f"guess-{lesson.name}-{i}",
            )
        if st.form_submit_button("Record my guesses"):
            kept = {i: guess for i, guess in picked.items() if guess is not None}
            st.session_state[GUESSES][lesson.name] = kept
    if kept:
        st.caption(f":material/edit_note: {len(kept)} of {len(lesson.checks)} guesses recorded: they show beside "
                   "the verdicts.")  # fmt: skip
    return kept


def run_lesson(lesson: Lesson, plan: Plan, result: LessonResult) -> None:
    """One button queues the runs still missing (through the one queue); then the set's progress."""
    total = len(plan.items)
    finished = sum(item.status == "finished" for item in plan.items)
    if plan.missing:
        label = f"Run this lesson: {len(plan.missing)} of {total} runs to train, {minutes_text(lesson, plan)}"
        if st.button(label, type="primary", key=f"run-{lesson.name}"):
            try:
                submit_lesson(plan)
            except LessonError as exc:
                show_error(str(exc))
            else:
                st.rerun()
    st.progress(finished / total if total else 1.0, text=f"{finished} of {total} runs done")
    for run_id, why in result.failed.items():
        show_warning(f"Run {run_id} did not finish ({why}). Delete it on Compare to train it again.")
    if result.pending:
        st.caption(f"Under way: runs {', '.join(map(str, result.pending))}. The verdict updates as each finishes.")
        st.fragment(run_every=refresh_s(3.0, most_s=15.0))(_refresh_when_one_finishes)(lesson, finished)


def _refresh_when_one_finishes(lesson: Lesson, finished: int) -> None:
    plan = plan_lesson(lesson, get_store())
    if sum(item.status == "finished" for item in plan.items) != finished:
        st.rerun()


def answer(lesson: Lesson, result: LessonResult, guesses: dict[int, str] | None = None) -> None:
    """The chart that answers the question, the verdict of each check with its figures, the guess beside it."""
    lesson_chart(lesson, result)
    colour, icon = VERDICT_LOOK[result.verdict]
    st.markdown(f"### Verdict: :{colour}-badge[{icon} {result.verdict}]")
    supported_by = {}
    for i, (claim, check) in enumerate(zip(lesson.checks, result.checks, strict=True)):
        supported_by[i] = supported(check, claim, lesson)
        colour, icon = VERDICT_LOOK[check.verdict]
        with st.container(border=True):
            st.markdown(f":{colour}-badge[{icon} {check.verdict}] {escaped(check.says)}")
            st.caption(escaped(check.words))
            if guesses and i in guesses:
                st.caption(guess_line(guesses[i], supported_by[i]))
    if about_cost(lesson) and not presenting():
        cost_section(result)
    if lesson.explain and not presenting():
        st.markdown("**Explain.**")
        for prompt in lesson.explain:
            st.markdown(f"- {escaped(prompt)}")
    ids = [run_id for ids in result.runs.values() for run_id in ids]
    if ids:
        page_link(PAGES.compare, label="Open these runs on Compare", icon=":material/balance:",
                  query_params={"b": str(ids[-1])})  # fmt: skip


def guess_line(guess: str, measured: str | None) -> str:
    if measured is None:
        return f"Your guess: {escaped(guess)}. The runs cannot tell yet."
    if guess == measured:
        return f":material/thumb_up: Your guess: {escaped(guess)}. The runs agree."
    return f"Your guess: {escaped(guess)}. The runs say: {escaped(measured)}."


def lesson_chart(lesson: Lesson, result: LessonResult) -> None:
    """Quality against the cost the checks are about (training time when none is), one point per lesson run."""
    cost_keys = {f.key for f in costs()}
    cost = next((c.metric for c in lesson.checks if c.metric in cost_keys), "train_wall_s")
    quality = next((c.metric for c in lesson.checks if c.metric in {f.key for f in qualities()}), "accuracy")
    rows: list[dict[str, Any]] = []
    for run in lesson.runs:
        figures = result.figures.get(run.id, {})
        if cost in figures and quality in figures:
            x, y = figures[cost], figures[quality]
            rows.append({"label": run.label, "x": shown(cost, x.mean), "y": y.mean, "x_sd": shown(cost, x.sd),
                         "y_sd": y.sd, "n": y.n})  # fmt: skip
    if not rows:
        return
    for row, on in zip(rows, pareto_mask([r["x"] for r in rows], [r["y"] for r in rows]), strict=True):
        row["on_front"] = on
    x_title, y_title = figure(cost).axis_title, figure(quality).axis_title
    built = charts.frontier(rows, x_title, y_title, figure(cost).axis_scale == "log",
                            title=f"{y_title} against {in_sentence(x_title)}", y_bounds=figure(quality).axis_range,
                            presentation=presenting())  # fmt: skip
    chart(built, key=f"lesson-chart-{lesson.name}")


# --- what it cost ------------------------------------------------------------------------------------------------
def cost_section(result: LessonResult) -> None:
    """The runs' energy and CO2 beside everyday things, the costliest on other grids, and it at scale (estimated)."""
    country = chosen_country()
    cost = lesson_cost(result, country=country)
    if cost is None:
        return
    st.markdown("**What these runs cost.**")
    st.caption(f"Energy as each run measured or estimated it. CO₂eq priced with the sidebar's country: "
               f"{escaped(cost.carbon_source)}.")  # fmt: skip
    for run in cost.runs:
        st.markdown(f"- **{escaped(run.label)}**: {escaped(run.words)}.")
    with st.expander("Every everyday comparison, and where each figure comes from"):
        st.dataframe(everyday_table(cost), hide_index=True, key=f"everyday-{result.lesson.name}")
    costliest = next(r for r in cost.runs if r.run == cost.scaled_run)
    st.caption(f"The chart below: {escaped(costliest.label)}'s energy priced on other countries' grids.")
    chart(charts.reprice(reprice(costliest.energy_kwh, countries_to_reprice(country)), highlight=country),
          key=f"lesson-reprice-{result.lesson.name}")  # fmt: skip
    scale_section(result, costliest.label, country)


def everyday_table(cost: LessonCost) -> list[dict[str, Any]]:
    """One row per everyday thing: its count for each lesson run, then its source."""
    rows = []
    for i, thing in enumerate(cost.runs[0].equivalents):
        row: dict[str, Any] = {"everyday thing": thing.what}
        row.update({run.label: round(run.equivalents[i].count, 4) for run in cost.runs})
        rows.append({**row, "source": thing.source})
    return rows


def scale_section(result: LessonResult, label: str, country: str) -> None:
    """The costliest run priced for a larger model on more data: an estimate, with its formula."""
    st.markdown(f"**At scale** ({escaped(label)}, estimated).")
    left, right = st.columns(2)
    params_m = left.number_input("Parameters (millions)", min_value=0.1, max_value=1_000_000.0, value=SCALE_PARAMS_M,
                                 key=f"scale-params-{result.lesson.name}",
                                 help="MiniLM has 22.7 million; a 7B language model has 7,000.")  # fmt: skip
    data_factor = right.number_input("Data, times this run's", min_value=0.001, max_value=1e9, value=SCALE_DATA_FACTOR,
                                     key=f"scale-data-{result.lesson.name}")  # fmt: skip
    cost = lesson_cost(result, country=country, params=params_m * 1e6, data_factor=data_factor)
    if cost is None or cost.scaled is None:
        show_warning(cost.scaled_error if cost else "No run of this lesson measured its energy.")
        return
    scaled = cost.scaled
    st.markdown(f"About **{duration_words(scaled.train_wall_s)}** of this machine, **{scaled.energy_kwh:,.3g} kWh** and "
                f"**{scaled.co2_kg:,.3g} kg CO₂eq**.")  # fmt: skip
    st.caption(escaped(f"Method: {scaled.method}."))


# --- the tokenizer lens --------------------------------------------------------------------------------------
def tokenizer_lens(model: str) -> None:
    """How the model's tokenizer cuts each language and the student's own sentence: counted, before any training."""
    from efficiency import tokens

    st.markdown("**The tokenizer lens.** Before training: how this model's tokenizer cuts each language.")
    try:
        rows, note = lens_rows(model)
    except EfficiencyError as exc:
        show_error(str(exc))
        return
    st.dataframe(rows, hide_index=True, column_config=LENS_COLUMNS, key=f"lens-{model}")
    st.caption(escaped(f"{model}: {tokens.METHOD}" + (f" ({note})" if note else "") + "."))
    sentence = st.text_input("Your own sentence", key=f"lens-text-{model}", max_chars=2000,
                             placeholder="Type a sentence in any language")  # fmt: skip
    if sentence.strip():
        tokenizer, _ = cached_tokenizer(model)
        stats = tokens.count(tokenizer, [sentence], "text")
        st.code(" ".join(tokens.split_pieces(tokenizer, sentence)), language=None, wrap_lines=True)
        st.caption(f"{stats.pieces} pieces for {stats.words} words ({stats.fertility or 0:.2f} per word), "
                   f"{stats.unknown} unknown, {stats.lost_share or 0:.0%} of the characters lost to normalisation.")  # fmt: skip


LENS_COLUMNS = {
    "source": st.column_config.TextColumn("Dataset"),
    "fertility": st.column_config.NumberColumn("Pieces per word", format="%.2f"),
    "unknown_share": st.column_config.NumberColumn("Unknown pieces", format="percent"),
    "chars_per_piece": st.column_config.NumberColumn("Characters per piece", format="%.2f"),
    "lost_share": st.column_config.NumberColumn("Characters lost", format="percent"),
    "texts": st.column_config.NumberColumn("Texts read"),
}


@st.cache_resource(show_spinner="Loading the tokenizer...", max_entries=4)
def cached_tokenizer(model: str) -> tuple[Any, str]:
    from efficiency.preview import load_tokenizer

    return load_tokenizer(model)


@st.cache_data(show_spinner="Counting the pieces of every language (once)...", max_entries=4)
def lens_rows(model: str) -> tuple[list[dict[str, Any]], str]:
    """One row per dataset in the data folder: its first training texts, counted with the model's tokenizer."""
    from efficiency import tokens

    tokenizer, note = cached_tokenizer(model)
    keys = ("source", "fertility", "unknown_share", "chars_per_piece", "lost_share", "texts")
    rows = tokens.dataset_lens(tokenizer, tokens.dataset_names(None))
    return [{key: getattr(row, key) for key in keys} for row in rows], note
