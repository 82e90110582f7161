"""A run card: one run's config, hardware, library versions, measurement methods, seed, results and the
command that re-runs it, as JSON (plain data) and as Markdown (to paste into a report)."""

from __future__ import annotations

import json
import re
from typing import Any

from efficiency.config import RunConfig
from efficiency.figures import FIGURES, text
from efficiency.flags import command_for
from efficiency.store import RunRecord

CARD_VERSION = 1


def run_card(record: RunRecord) -> dict[str, Any]:
    """The card as plain data; figures as stored (units in their keys), each with how it was obtained."""
    metrics = record.metrics or {}
    provenance = metrics.get("provenance", {})
    environment = record.environment or {}
    try:
        command: str | None = command_for(RunConfig.from_dict(record.config))
    except Exception:  # a config from an older version: the card still shows it as stored
        command = None
    results = {
        f.key: {
            "value": metrics[f.key],
            "shown": text(f.key, metrics[f.key]),
            "kind": provenance.get(f.key, {}).get("kind", f.kind),
            "method": provenance.get(f.key, {}).get("method", ""),
        }
        for f in FIGURES
        if metrics.get(f.key) is not None
    }
    return {
        "card_version": CARD_VERSION,
        "run_id": record.id,
        "name": record.name,
        "status": record.status,
        "error": record.error,
        "seed": record.seed,
        "model": record.model,
        "dataset": record.dataset,
        "device": record.device,
        "started_at": record.started_at,
        "finished_at": record.finished_at,
        "config": record.config,
        "hardware": {k: v for k, v in environment.items() if k != "libraries"},
        "libraries": environment.get("libraries", {}),
        "results": results,
        "energy_method": metrics.get("energy_method"),
        "country": metrics.get("country"),
        "command": command,
    }


def card_markdown(card: dict[str, Any]) -> str:
    """The card in Markdown; every stored string is escaped, so a run's name cannot inject formatting."""
    lines = [f"# Run {card['run_id']}: {_md(card['name'] or 'unnamed')}", ""]
    lines.append(f"- status: {_md(card['status'])}" + (f" ({_md(card['error'])})" if card["error"] else ""))
    lines += [f"- model: {_md(card['model'])}", f"- dataset: {_md(card['dataset'])}", f"- seed: {card['seed']}"]
    lines += [f"- device: {_md(card['device'])}", ""]
    lines += ["## Results", "", "| figure | value | kind | method |", "| --- | --- | --- | --- |"]
    for key, row in card["results"].items():
        lines.append(f"| {key} | {_md(row['shown'])} | {_md(row['kind'])} | {_md(row['method'])} |")
    if not card["results"]:
        lines.append("| (none stored) | | | |")
    lines += ["", "## Re-run it", ""]
    lines += _fenced(card["command"] or "(the stored config is from an older version: use train --config)")
    lines += ["", "## Hardware", ""]
    lines += [f"- {_md(k)}: {_md(v)}" for k, v in card["hardware"].items()]
    lines += ["", "## Library versions", ""]
    lines += [f"- {_md(k)}: {_md(v)}" for k, v in card["libraries"].items()]
    lines += ["", "## Config", "", *_fenced(json.dumps(card["config"], indent=2, default=str), "json"), ""]
    return "\n".join(lines)


def _md(value: Any) -> str:
    """A stored value as literal Markdown text on one line: what could format, link or break a table escaped."""
    flat = " ".join(str(value).split())
    return re.sub(r"([\\`*_{}\[\]!|<>~])", r"\\\1", flat)


def _fenced(body: str, language: str = "") -> list[str]:
    """A code block whose fence is longer than any run of backticks inside, so the body cannot close it."""
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence + language, body, fence]
