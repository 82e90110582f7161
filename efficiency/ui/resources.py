"""Resources created once per app server (st.cache_resource) and never mutated: the run store, the scheduler."""

from __future__ import annotations

import streamlit as st

from efficiency.errors import EfficiencyError
from efficiency.runs.scheduler import Scheduler
from efficiency.runs.serve import configured_scheduler
from efficiency.store import RunStore
from efficiency.ui.plain import show_error


@st.cache_resource
def get_store() -> RunStore:
    return RunStore()


@st.cache_resource
def _scheduler() -> Scheduler:
    return configured_scheduler(get_store()).start()  # the same scheduler as `python -m efficiency queue serve`


def get_scheduler() -> Scheduler:
    """The server's one scheduler; a Ray cluster it cannot reach ($EFFLAB_EXECUTOR=ray) is said, and the page stops."""
    try:
        return _scheduler()
    except EfficiencyError as exc:  # not cached: the next page load tries again
        show_error(str(exc))
        st.stop()
        raise  # st.stop() raises; this line only tells the type checker


@st.cache_data(ttl=300, show_spinner=False)
def hub_online() -> bool:
    """Whether the Hugging Face Hub answers, asked at most every five minutes (offline it costs up to a second)."""
    from efficiency.model_names import hub_reachable

    return hub_reachable(timeout_s=1.0)
