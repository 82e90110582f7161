"""Who is at this browser on a class server: an owner token kept in the session and its address, and a name.

The token is random and stays with the browser's session and its address (`?me=...`), so a reload keeps
it; the store keeps only its hash, and no export, run card or log shows it. The name is what the student
types once, shown beside their runs. On the personal lab there is one user, and neither is asked for.
"""

from __future__ import annotations

import os

import streamlit as st

from efficiency.class_auth import PinGuard, read_pin
from efficiency.class_server import CLASS_ENV
from efficiency.owners import NAME_MAX_CHARS, Actor, new_token

TOKEN_PARAM = "me"
NAME_KEY = "display-name"


def class_mode() -> bool:
    """Whether this app is a class server (`make class`), where each browser owns its runs."""
    return os.environ.get(CLASS_ENV) == "1"


def owner_token() -> str | None:
    """This browser's owner token on a class server (made on its first visit); None on a personal lab."""
    if not class_mode():
        return None
    token = st.session_state.get("owner-token") or st.query_params.get(TOKEN_PARAM)
    if not token or len(token) > 64:
        token = new_token()
    st.session_state["owner-token"] = token
    if st.query_params.get(TOKEN_PARAM) != token:
        st.query_params[TOKEN_PARAM] = token  # a reload, or a bookmark, keeps the same owner
    return token


def display_name() -> str:
    """The name this student typed (empty until they do)."""
    return str(st.session_state.get(NAME_KEY) or "").strip()[:NAME_MAX_CHARS]


def name_box() -> None:
    """On a class server, the sidebar asks once for the name shown beside this browser's runs."""
    if not class_mode():
        return
    owner_token()
    st.text_input(
        "Your name",
        key=NAME_KEY,
        max_chars=NAME_MAX_CHARS,
        placeholder="shown beside your runs",
        help="Everyone sees every run; only you (or the teacher) can stop or delete yours.",
    )


@st.cache_resource
def pin_guard() -> PinGuard:
    """One guard per server: wrong tries from any browser make the next one wait."""
    return PinGuard(read_pin())


def teacher_unlocked() -> bool:
    """A personal lab (no PIN set) lets everyone in; a class server, whoever typed the teacher's PIN."""
    guard = pin_guard()
    if guard.pin is None:
        return True
    typed = str(st.session_state.get("teacher-pin") or "")
    if not typed:
        return False
    checked = st.session_state.get("teacher-pin-checked")
    if checked is None or checked[0] != typed:  # a try is counted once, not on every rerun
        unlocked, message = guard.check(typed)
        st.session_state["teacher-pin-checked"] = checked = (typed, unlocked, message)
    return checked[1]


def current_actor() -> Actor:
    """Who this browser is: the personal lab's one user, a student, or the teacher once the PIN was typed."""
    return Actor.for_session(owner_token(), display_name(), teacher=class_mode() and teacher_unlocked())
