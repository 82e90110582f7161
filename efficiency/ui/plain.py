"""User text shown as text: run names, notes, label names and the messages that quote them.

Streamlit renders Markdown in st.markdown, st.caption, st.error, headings, labels and tooltips, so a
note `![x](http://elsewhere/p.png)` would load an outside image for every viewer and `[click](http://x)`
would be a link. Escaping every ASCII punctuation character (CommonMark allows a backslash before each)
leaves the text exactly as typed: no image, no link text, no HTML, no colour or maths directive.
A bare URL stays a URL, shown as typed.
"""

from __future__ import annotations

import re
import string

import streamlit as st

_PUNCTUATION = re.compile("([" + re.escape(string.punctuation) + "])")


def escaped(text: object) -> str:
    """`text` for any element that renders Markdown, shown literally."""
    return _PUNCTUATION.sub(r"\\\1", str(text))


def show_error(message: str, icon: str | None = ":material/block:") -> None:
    """An error message that may quote user text (a model name, a file name, a run's stored error)."""
    st.error(escaped(message), icon=icon)


def show_warning(message: str, icon: str | None = None) -> None:
    st.warning(escaped(message), icon=icon)
