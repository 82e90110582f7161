"""The app's Streamlit pieces: the only part of the library that imports streamlit.

The pages (`app.py`, `pages/`) build widgets, hand the library a config and draw what it returns;
what they share lives here, in small modules: the page registry and router guard (`router`),
cached resources, the sidebar, drawing (`display`), starting runs (`submit`), the live view, the
result card, the predicted cost, tables, and user text shown as text (`plain`).

`ui.NAME` imports NAME's module on first use (PEP 562), so a page paints its title before the heavy
modules (pandas, SQLAlchemy, Plotly) are loaded. No module is named like a name it exports: an
imported submodule would shadow the name on the package.
"""

from __future__ import annotations

import importlib
from typing import Any

# name -> the module that defines it
WHERE = {
    "PAGES": "router",
    "navigation": "router",
    "page_link": "router",
    "page_start": "router",
    "through_the_router": "router",
    "chart": "display",
    "chart_row": "display",
    "presenting": "display",
    "pillar_heading": "display",
    "lesson_index": "lesson_view",
    "lesson_detail": "lesson_view",
    "refresh_s": "pacing",
    "collect_garbage_periodically": "garbage",
    "get_scheduler": "resources",
    "get_store": "resources",
    "hub_online": "resources",
    "sidebar": "side_panel",
    "chosen_country": "side_panel",
    "teacher_unlocked": "identity",
    "current_actor": "identity",
    "class_mode": "identity",
    "class_view": "class_overview",
    "submit": "queueing",
    "submit_lesson": "queueing",
    "repeat_with_seeds": "queueing",
    "watch": "live",
    "result_card": "card",
    "counted_vs_rule_of_thumb": "card",
    "predicted_cost": "prediction",
    "latest_runs": "tables",
    "escaped": "plain",
    "show_error": "plain",
    "show_warning": "plain",
}
__all__ = sorted(WHERE)


def __getattr__(name: str) -> Any:
    if name not in WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{WHERE[name]}"), name)


def __dir__() -> list[str]:
    return __all__
