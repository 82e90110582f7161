"""Non-finite numbers (NaN, infinity) in run records: stored as null on every backend, and noticed.

JSON has no NaN: Python writes a bare `NaN` that PostgreSQL and most readers refuse, and SQLite
keeps it as text nobody else can parse. So every JSON value the store writes passes through
`dumps`, which turns non-finite numbers into null first and then refuses any that slipped by.
"""

from __future__ import annotations

import json
import math
import numbers
from typing import Any

MAX_PATHS_KEPT = 10  # where the first non-finite numbers were, for the card; the count is kept in full


def _is_non_finite(value: Any) -> bool:
    return (
        isinstance(value, numbers.Real)
        and not isinstance(value, numbers.Integral)  # bool and int are always finite
        and not math.isfinite(float(value))
    )


def finite(value: Any) -> Any:
    """`value` with every non-finite number inside it (dicts, lists, tuples) replaced by None."""
    if _is_non_finite(value):
        return None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    return value


def non_finite_paths(value: Any, where: str = "") -> list[str]:
    """Where the non-finite numbers are, e.g. ['curves.train[3].loss']."""
    if _is_non_finite(value):
        return [where]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in non_finite_paths(v, f"{where}.{k}" if where else str(k))]
    if isinstance(value, list | tuple):
        return [p for i, v in enumerate(value) for p in non_finite_paths(v, f"{where}[{i}]")]
    return []


def dumps(value: Any) -> str:
    """The store's JSON serialiser: non-finite numbers become null, and a bare NaN can never be written."""
    return json.dumps(finite(value), allow_nan=False)


def record_non_finite(metrics: dict[str, Any] | None, curves: dict[str, Any] | None) -> dict[str, Any] | None:
    """`metrics` with a `non_finite` note (count and first places) when it or the curves held NaN or infinity."""
    places = non_finite_paths({"metrics": metrics or {}, "curves": curves or {}})
    if not places:
        return metrics
    return {**(metrics or {}), "non_finite": {"count": len(places), "first": places[:MAX_PATHS_KEPT]}}


def divergence_message(metrics: dict[str, Any] | None) -> str | None:
    """What the card says about a run whose numbers stopped being finite; None for a healthy run."""
    note = (metrics or {}).get("non_finite")
    if not note:
        return None
    places = note.get("first") or []
    losses = [p for p in places if "loss" in p]
    if losses:
        return (
            f"This run diverged: its loss became NaN or infinite ({note.get('count', len(places))} values, the "
            f"first at {losses[0]}). Those values are stored as blanks and its accuracy means little. Train it "
            "again with a lower learning rate."
        )
    return (
        f"{note.get('count', len(places))} figures of this run were not finite numbers (first: "
        f"{', '.join(places[:3])}); they are stored as blanks."
    )
