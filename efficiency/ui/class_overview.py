"""The teacher's view of a class: every run by student, the class's leaderboard for one dataset, its export.

Shown on Compare once the teacher's PIN is typed on a class server. Students' names are user text: shown
as typed, in tables (plain text) and on the chart (escaped for Plotly).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from efficiency import charts
from efficiency.compare import pareto_mask
from efficiency.export import export_runs
from efficiency.figures import figure, shown
from efficiency.store import RunRecord
from efficiency.ui.display import chart

UNNAMED = "(no name given)"


def class_view(records: list[RunRecord], dataset: str) -> None:
    with st.expander("Class view (teacher): runs by student, leaderboard, export", expanded=False):
        by_student(records)
        leaderboard([r for r in records if r.dataset == dataset], dataset)
        st.download_button(
            "Export the class's runs (CSV)",
            export_runs(records, "csv"),
            "efficiency-lab-class-runs.csv",
            "text/csv",
            help="Every run of every student, one row each, with its student's name (never their token).",
        )


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
