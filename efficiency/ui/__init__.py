"""The app's Streamlit pieces: the only part of the library that imports streamlit.

The pages (`app.py`, `pages/`) build widgets, hand the library a config and draw what it returns;
what they share lives here, in small modules: the page registry and router guard (`router`),
cached resources, the sidebar, drawing (`display`), starting runs (`submit`), the live view, the
result card and tables. The names below are what the pages use.
"""

from efficiency.ui.display import chart, chart_row, presenting
from efficiency.ui.live import watch
from efficiency.ui.resources import get_scheduler, get_store
from efficiency.ui.result_card import counted_vs_rule_of_thumb, result_card
from efficiency.ui.router import PAGES, navigation, page_link, page_start, through_the_router
from efficiency.ui.sidebar import sidebar
from efficiency.ui.submit import repeat_with_seeds, submit
from efficiency.ui.tables import latest_runs

__all__ = [
    "PAGES",
    "chart",
    "chart_row",
    "counted_vs_rule_of_thumb",
    "get_scheduler",
    "get_store",
    "latest_runs",
    "navigation",
    "page_link",
    "page_start",
    "presenting",
    "repeat_with_seeds",
    "result_card",
    "sidebar",
    "submit",
    "through_the_router",
    "watch",
]
