"""Resources created once per app server (st.cache_resource) and never mutated: the run store, the scheduler."""

from __future__ import annotations

import streamlit as st

from efficiency import lab_settings
from efficiency.runs.executor import LocalProcessExecutor
from efficiency.runs.scheduler import Scheduler
from efficiency.store import RunStore


@st.cache_resource
def get_store() -> RunStore:
    return RunStore()


def _backstop_s() -> float | None:
    """The scheduler's hard limit: the teacher's limit, plus time to load, test and measure."""
    limit = lab_settings.load().time_limit_s
    return None if limit is None else limit * 1.25 + 120


@st.cache_resource
def get_scheduler() -> Scheduler:
    store = get_store()
    return Scheduler(store, LocalProcessExecutor(store.url), time_limit_s=_backstop_s).start()
