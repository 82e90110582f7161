"""Resources created once per app server (st.cache_resource) and never mutated: the run store, the scheduler."""

from __future__ import annotations

import streamlit as st

from efficiency.runs.scheduler import Scheduler
from efficiency.runs.serve import local_scheduler
from efficiency.store import RunStore


@st.cache_resource
def get_store() -> RunStore:
    return RunStore()


@st.cache_resource
def get_scheduler() -> Scheduler:
    return local_scheduler(get_store()).start()  # the same scheduler as `python -m efficiency queue serve`


@st.cache_data(ttl=300, show_spinner=False)
def hub_online() -> bool:
    """Whether the Hugging Face Hub answers, asked at most every five minutes (offline it costs up to a second)."""
    from efficiency.model_names import hub_reachable

    return hub_reachable(timeout_s=1.0)
