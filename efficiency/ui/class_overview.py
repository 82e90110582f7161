"""The teacher's view of a class: the queue in its order, every run by student, the class's leaderboard, its export.

Shown on Compare once the teacher's PIN is typed on a class server. Students' names are user text: shown
as typed, in tables (plain text) and on the chart (escaped for Plotly).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from efficiency import charts
from efficiency.compare import pareto_mask
from efficiency.errors import EfficiencyError
from efficiency.export import export_runs
from efficiency.fair_queue import in_start_order
from efficiency.figures import figure, shown
from efficiency.store import RunRecord
from efficiency.ui.display import chart
from efficiency.ui.identity import current_actor, teacher_unlocked
from efficiency.ui.plain import escaped, show_error
from efficiency.ui.resources import get_store

UNNAMED = "(no name given)"


def class_view(records: list[RunRecord], dataset: str) -> None:
    """The teacher's view, on a class server once the PIN is typed; a change refused to this browser is said once."""
    refused = st.session_state.pop("class-queue-refused", None)
    if refused:
        show_error(refused)
    if not teacher_unlocked():
        return
    with st.expander("Class view (teacher): the queue, runs by student, leaderboard, export", expanded=False):
        queue_order()
        by_student(records)
        leaderboard([r for r in records if r.dataset == dataset], dataset)
        st.download_button(
            "Export the class's runs (CSV)",
            export_runs(records, "csv"),
            "efficiency-lab-class-runs.csv",
            "text/csv",
            help="Every run of every student, one row each, with its student's name (never their token).",
        )


def queue_order() -> None:
    """Each device's queue in the order runs will start, with the teacher's buttons to move a run."""
    store = get_store()
    queued = [r for r in in_start_order(store.active(), store.last_starts()) if r.status == "queued"]
    if not queued:
        st.caption("No run is waiting in the queue.")
        return
    for device in dict.fromkeys(r.device for r in queued):
        st.markdown(f"**Queue on {escaped(device)}**, in the order runs start:")
        for place, record in enumerate((r for r in queued if r.device == device), start=1):
            left, up, down, front = st.columns([6, 1, 1, 1], vertical_alignment="center")
            who = record.owner_name or UNNAMED
            left.text(f"{place}. Run {record.id}: {record.name or 'unnamed'} ({who})")
            for column, where, label, words in (
                (up, "up", "Up", "one place up"),
                (down, "down", "Down", "one place down"),
                (front, "front", "First", "to the front"),
            ):
                column.button(
                    label,
                    key=f"class-queue-{where}-{record.id}",
                    help=f"Move run {record.id} {words} of the queue on {device}.",
                    on_click=move,
                    args=(record.id, where),
                )


def move(run_id: int, where: str) -> None:
    """A teacher's button: move a queued run; a refusal (not the teacher, the run started) is shown once."""
    try:
        get_store().move_in_queue(run_id, where, actor=current_actor())
    except EfficiencyError as exc:
        st.session_state["class-queue-refused"] = str(exc)


def by_student(records: list[RunRecord]) -> None:
    """How many runs each student queued, finished and their best accuracy."""
    rows = {}
    for record in records:
        name = record.owner_name or UNNAMED
        row = rows.setdefault(name, {"student": name, "runs": 0, "finished": 0, "best accuracy": None})
        row["runs"] += 1
        accuracy = (record.metrics or {}).get("accuracy") if record.status == "finished" else None
        if accuracy is not None:
            row["finished"] += 1
            row["best accuracy"] = max(row["best accuracy"] or 0.0, accuracy)
    st.dataframe(pd.DataFrame(list(rows.values())), hide_index=True, width="stretch")


def leaderboard(records: list[RunRecord], dataset: str) -> None:
    """The class's frontier of accuracy against energy on one dataset, each point named by its student."""
    finished = [r for r in records if r.status == "finished" and (r.metrics or {}).get("accuracy") is not None
                and (r.metrics or {}).get("energy_kwh") is not None]  # fmt: skip
    if not finished:
        st.caption(f"No finished run on {dataset} has both accuracy and energy yet.")
        return
    xs = [shown("energy_kwh", r.metrics["energy_kwh"]) for r in finished]
    ys = [r.metrics["accuracy"] for r in finished]
    points = [
        {"label": f"{r.owner_name or UNNAMED} (run {r.id})", "x": x, "y": y, "n": 1, "on_front": on}
        for r, x, y, on in zip(finished, xs, ys, pareto_mask(xs, ys), strict=True)
    ]
    x_title, y_title = figure("energy_kwh").axis_title, figure("accuracy").axis_title
    built = charts.frontier(points, x_title, y_title, title=f"The class on {dataset}: {y_title} against energy",
                            y_bounds=figure("accuracy").axis_range)  # fmt: skip
    chart(built, key="class-leaderboard")
