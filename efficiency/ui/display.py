"""How the app draws: presentation mode (large type for a projector), charts, status icons and badges."""

from __future__ import annotations

from typing import Any

import streamlit as st

from efficiency import charts

BADGE_COLOURS = {"measured": "green", "counted": "blue", "estimated": "orange"}

# The three pillars of efficiency as headings, in the registry's order (Experiment's columns, Lessons' groups).
PILLAR_HEADINGS = {
    "data": ":material/menu_book: Data",
    "effort": ":material/tune: Effort",
    "compute": ":material/settings: Compute",
}

STATUS_ICONS = {
    "queued": ":material/hourglass_top:",
    "running": ":material/directions_run:",
    "finished": ":material/check_circle:",
    "stopped": ":material/stop_circle:",
    "failed": ":material/error:",
    "interrupted": ":material/warning:",
}

PRESENTATION_CSS = """
<style>
html, body, [data-testid="stAppViewContainer"] { font-size: 22px; }
[data-testid="stMarkdownContainer"] p, [data-testid="stMarkdownContainer"] li { font-size: 1.3rem; }
[data-testid="stHeader"] { background: transparent !important; }
[data-testid="stMainBlockContainer"] { padding-top: 2.6rem !important; }
h1 { font-size: 2.2rem !important; padding-top: 0 !important; } h2 { font-size: 2.4rem !important; } h3 { font-size: 1.9rem !important; }
[data-testid="stMetricValue"] { font-size: 2.8rem !important; }
[data-testid="stMetricLabel"] p { font-size: 1.2rem !important; }
section[data-testid="stSidebar"] { width: 17rem !important; min-width: 17rem !important; }
</style>
"""


def pillar_heading(pillar: str) -> None:
    """A pillar's heading over its column of techniques or lessons."""
    st.markdown(f"##### {PILLAR_HEADINGS[pillar]}")


def presentation_css() -> None:
    if presenting():
        st.html(PRESENTATION_CSS)


def presenting() -> bool:
    return bool(st.session_state.get("presentation"))


def chart(figure: Any, key: str) -> None:
    st.plotly_chart(charts.styled(figure, presenting()), key=key, config={"displaylogo": False})


def chart_row(figures: list[tuple[str, Any]], key: str) -> None:
    """Charts side by side; one at a time (tabs) in presentation mode."""
    if not figures:
        return
    if presenting():
        for tab, (title, figure) in zip(st.tabs([t for t, _ in figures]), figures, strict=True):
            with tab:
                chart(figure, f"{key}-{title}")
    else:
        for column, (title, figure) in zip(st.columns(len(figures)), figures, strict=True):
            with column:
                chart(figure, f"{key}-{title}")
