"""Lessons: a paper's finding reproduced on this machine, with a verdict computed from the runs it measured."""

from __future__ import annotations

import streamlit as st

from efficiency import ui
from efficiency.lessons.catalog import all_lessons

ui.page_start(ui.PAGES.lessons.title)
lessons, problems = all_lessons()
wanted = st.query_params.get("lesson")
chosen = next((lesson for lesson in lessons if lesson.name == wanted), None)
if chosen is None:  # not st.stop(): the router draws the sidebar after the page
    ui.lesson_index(lessons, problems)
else:
    ui.lesson_detail(chosen)
