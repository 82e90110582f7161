"""The page registry and the one router guard: every page's path, title and icon in one place.

`app.py` builds `st.navigation` from `PAGES`; links between pages name a registry entry, never a
path string; and each page opens with `page_start(title)`, which also makes sure the page runs
inside app.py's router (sidebar, scheduler) even on a cold server.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

import streamlit as st


@dataclass(frozen=True)
class Page:
    path: str  # the page's script, relative to app.py
    title: str
    icon: str


@dataclass(frozen=True)
class Pages:
    """The app's pages after Home, in the order the navigation lists them."""

    experiment: Page = Page("pages/experiment.py", "Experiment", ":material/science:")
    compare: Page = Page("pages/compare.py", "Compare", ":material/balance:")
    lessons: Page = Page("pages/lessons.py", "Lessons", ":material/school:")
    methods: Page = Page("pages/methods.py", "Methods", ":material/straighten:")

    def __iter__(self) -> Any:
        return (getattr(self, f.name) for f in fields(self))


PAGES = Pages()
HOME = Page("app.py", "Home", ":material/home:")


def navigation(home: Callable[[], None]) -> Any:
    """`st.navigation` over Home (a function in app.py) and every registered page."""
    entries = [st.Page(home, title=HOME.title, icon=HOME.icon, default=True)]
    entries += [st.Page(page.path, title=page.title, icon=page.icon) for page in PAGES]
    return st.navigation(entries)


def page_link(page: Page, label: str | None = None, where: Any = st, **kwargs: Any) -> None:
    """A link to a registered page (in `where`: a column, the sidebar), labelled with its title unless told."""
    where.page_link(page.path, label=label or page.title, **kwargs)


def page_start(title: str) -> None:
    """The first call of every page: through the router, then the page's title."""
    through_the_router()
    st.title(title)


def through_the_router() -> None:
    """Make sure this page runs inside app.py's router (sidebar, scheduler), even on a cold server.

    Streamlit treats a `pages/` folder beside the main script as a legacy multipage app until
    `st.navigation` has run once in the server: the first visitor who opens /experiment or /compare
    directly would get the page alone, without the sidebar or the scheduler. Leaving that mode (what
    `st.navigation` itself does) and rerunning hands the visit to app.py, which then opens this page.
    """
    if legacy_pages_mode():
        leave_legacy_pages_mode()
        st.rerun()


def legacy_pages_mode() -> bool:
    """Whether the server still treats `pages/` as a legacy multipage app (Streamlit has no public API for it).

    The one place that reads the private flag; `tests/ui/test_router.py` fails when the installed
    Streamlit renames or removes it.
    """
    from streamlit.runtime.pages_manager import PagesManager

    return bool(PagesManager.uses_pages_directory)


def leave_legacy_pages_mode() -> None:
    from streamlit.runtime.pages_manager import PagesManager

    PagesManager.uses_pages_directory = False
