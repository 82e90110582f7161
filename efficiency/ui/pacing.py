"""How often self-refreshing panels redraw: at their own pace for a few browsers, slower as a class fills the server.

One Streamlit server runs every browser's reruns in one Python process (one core, by the GIL), and the
panels that redraw by themselves (a live run, the queue, the latest runs) cost it, and each browser, in
proportion to the browsers open, whether or not anyone clicks. So each panel's period grows with the
browsers this process saw in the last minute, up to a ceiling that keeps it useful; the class's load
figures are in README ("The class under load", `benchmarks/bench_class.py`).
"""

from __future__ import annotations

import threading
import time
import uuid

import streamlit as st

FULL_PACE_VIEWERS = 4  # up to this many browsers, every panel keeps its own period
SEEN_WITHIN_S = 60.0  # a browser that has not rerun for this long no longer counts

_last_seen: dict[str, float] = {}
_lock = threading.Lock()


def paced_s(base_s: float, viewers: int, most_s: float) -> float:
    """A panel's refresh period: `base_s` for up to FULL_PACE_VIEWERS browsers, growing with them, at most `most_s`."""
    return min(max(base_s, most_s), base_s * max(1.0, viewers / FULL_PACE_VIEWERS))


def note_viewer(now: float | None = None) -> int:
    """Count this browser as seen now; returns how many browsers were seen within the last minute."""
    viewer = st.session_state.setdefault("_pacing_viewer", uuid.uuid4().hex)
    return _note(viewer, time.monotonic() if now is None else now)


def _note(viewer: str, now: float) -> int:
    with _lock:
        _last_seen[viewer] = now
        for gone in [v for v, seen in _last_seen.items() if now - seen > SEEN_WITHIN_S]:
            del _last_seen[gone]
        return len(_last_seen)


def viewers(now: float | None = None) -> int:
    """Browsers seen within the last minute on this server process."""
    now = time.monotonic() if now is None else now
    with _lock:
        return sum(now - seen <= SEEN_WITHIN_S for seen in _last_seen.values())


def refresh_s(base_s: float, most_s: float) -> float:
    """The period for a panel whose own period is `base_s`, on this server now."""
    return paced_s(base_s, viewers(), most_s)
