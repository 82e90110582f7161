"""Runs exported to share: a CSV that is safe to open in a spreadsheet, a JSON without the server's details.

Both files leave the machine (the Compare page's download buttons, `runs export`), so neither carries
tracebacks, host names, process ids or folders of the machine that ran them: a path keeps its file
name only. In the CSV a text cell that a spreadsheet would run as a formula (=, +, -, @, tab, carriage
return first) is prefixed with an apostrophe, as OWASP recommends; numbers stay numbers. Everything
stored is still in the run store (`python -m efficiency runs show RUN_ID --json`).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import re
from collections.abc import Sequence
from typing import Any

from efficiency.figures import FIGURES
from efficiency.store import RunRecord

# The record's own fields left out; `owner` is a hash of a student's token: it stays in the class's store.
SERVER_ONLY = ("traceback", "host", "pid", "pid_started_at", "owner")
SERVER_ONLY_ENVIRONMENT = ("host",)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# An absolute path (POSIX, or Windows with a drive letter): everything up to its last part is the server's.
SERVER_PATH = re.compile(r"(?<![\w:/.~-])(?:~?/|[A-Za-z]:\\)(?:[^\s/\\'\",;:()\[\]{}]+[/\\])+")


def export_runs(records: Sequence[RunRecord], fmt: str) -> str:
    """Every run as JSON (everything stored but the server's details), or as CSV (identity, scalar metrics and
    the config as JSON).

    The CSV's figure columns are the catalogue's, in its order and stored units, present even where a run
    lacks one, so exports line up; any other scalar metric a run stored follows them.
    """
    shared = [shareable(dataclasses.asdict(r)) for r in records]
    if fmt == "json":
        return json.dumps(shared, default=str, indent=2) + "\n"
    keys: list[str] = []
    rows = []
    for record in shared:
        identity = ("name", "owner_name", "status", "model", "dataset", "device", "created_at")
        row = {key: record[key] for key in identity}
        row = {"run_id": record["id"], **row}
        metrics = record["metrics"] or {}
        row.update({f.key: metrics.get(f.key) for f in FIGURES})
        for key, value in metrics.items():
            if key not in row and (isinstance(value, (int, float, str)) or value is None):
                row[key] = value
        row["config"] = json.dumps(record["config"])
        keys += [k for k in row if k not in keys]
        rows.append({k: spreadsheet_safe(v) for k, v in row.items()})
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=keys)
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def shareable(record: dict[str, Any]) -> dict[str, Any]:
    """A stored run without the server's details: no traceback, host or pid, and paths cut to their file name."""
    kept = {k: v for k, v in record.items() if k not in SERVER_ONLY}
    if isinstance(kept.get("environment"), dict):
        kept["environment"] = {k: v for k, v in kept["environment"].items() if k not in SERVER_ONLY_ENVIRONMENT}
    return _without_paths(kept)


def _without_paths(value: Any) -> Any:
    if isinstance(value, str):
        return SERVER_PATH.sub("", value)
    if isinstance(value, dict):
        return {k: _without_paths(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_without_paths(v) for v in value]
    return value


def spreadsheet_safe(value: Any) -> Any:
    """A text cell a spreadsheet would run as a formula, prefixed with an apostrophe; anything else as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value
