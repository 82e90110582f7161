"""Forms generated from the config's own fields and the techniques' facts: one widget per setting."""

from __future__ import annotations

import math
import typing
from collections.abc import Callable
from typing import Any

import streamlit as st

from efficiency import ui  # lazy: the store (SQLAlchemy) loads only when a teacher list is drawn
from efficiency.fields import base_type, help_of
from efficiency.techniques import describe

# Where an optional setting's 'recommended default' box is unticked, the value it starts from.
OPTIONAL_STARTS = {"learning_rate": 2e-4, "time_limit_s": 300.0, "limit_train": 500, "max_length": 128, "dropout": 0.1}


def value_widget(label: str, kind: str, default: Any, help: str, key: str, choices: list | None = None) -> Any:
    """One widget for one setting, chosen by its type; the setting's help text is its tooltip."""
    if choices:
        index = choices.index(default) if default in choices else 0
        return st.selectbox(label, choices, index=index, help=help, key=key, persist_state="session")
    if kind == "bool":
        return st.checkbox(label, value=bool(default), help=help, key=key, persist_state="session")
    if kind == "int":
        return int(st.number_input(label, value=int(default), step=1, help=help, key=key, persist_state="session"))
    if kind == "float":
        value = float(default)
        step = 10.0 ** (math.floor(math.log10(abs(value))) - 1) if value else 0.01  # +/- moves the second digit
        number = st.number_input(
            label, value=value, step=step, format="%g", help=help, key=key, persist_state="session"
        )
        return float(number)
    if kind == "list":
        joined = "+".join(map(str, default))
        text = st.text_input(
            label, value=joined, help=f"{help} Join several with '+'.", key=key, persist_state="session"
        )
        return [part.strip() for part in text.split("+") if part.strip()]
    return st.text_input(label, value=str(default), help=help, key=key, persist_state="session")


def optional_widget(cls: type, name: str, current: Any, key: str) -> Any:
    """A setting whose None means 'the recommended default': a checkbox, then the value."""
    label = name.replace("_", " ")
    auto = st.checkbox(
        f"{label}: recommended default",
        value=current is None,
        key=f"{key}-auto",
        help=help_of(cls, name),
        persist_state="session",
    )
    if auto:
        return None
    start = current if current is not None else OPTIONAL_STARTS.get(name, 0)
    kind = base_type(typing.get_type_hints(cls)[name]).__name__
    return value_widget(label, kind, start, help_of(cls, name), key)


def settings_of(cls: type, current: Any, names: list[str], prefix: str) -> dict[str, Any]:
    """Widgets for the named fields of a config section, each starting from its current value."""
    hints = typing.get_type_hints(cls)
    values = {}
    for name in names:
        key = f"{prefix}.{name}"
        if type(None) in typing.get_args(hints[name]):
            values[name] = optional_widget(cls, name, getattr(current, name), key)
        else:
            kind = base_type(hints[name]).__name__
            values[name] = value_widget(name.replace("_", " "), kind, getattr(current, name), help_of(cls, name), key)
    return values


def technique_settings(
    name: str, current: dict[str, Any], special: dict[str, Callable[[dict[str, Any], Any], Any]] | None = None
) -> dict[str, Any]:
    """The technique's settings; only those changed from their defaults go into the config.

    `special` gives a field its own widget (the distillation teacher: a list of kept runs, not free text).
    """
    chosen = {}
    for f in describe(name)["fields"]:
        start = current.get(f["name"], f["default"])
        if special and f["name"] in special:
            value = special[f["name"]](f, start)
        else:
            key = f"exp.t.{name}.{f['name']}"
            value = value_widget(f["name"].replace("_", " "), f["type"], start, f["help"], key, f["choices"])
        if value != f["default"]:
            chosen[f["name"]] = value
    return chosen


def teacher_widget(name: str, field: dict[str, Any], current: Any, model: str, dataset: str) -> str:
    """The distillation teacher: trained in this job, or one of the kept full fine-tuning runs that fit."""
    from efficiency.runs.keep import loadable  # torch: imported only when distillation is switched on

    kept = [
        r
        for r in ui.get_store().list(status="finished")
        if r.model_path
        and r.model == model
        and r.dataset == dataset
        and not (r.config or {}).get("techniques")
        and loadable(r.model_path)
    ]
    options = ["train"] + [str(r.id) for r in kept]
    # Short: an option must fit a third of the page; accuracy first, as a teacher is chosen by it.
    names = {str(r.id): f"run {r.id} · acc {(r.metrics or {}).get('accuracy', 0):.3f} · {r.name}" for r in kept}
    current = str(current)
    if current not in options:  # a teacher from a run that was deleted, or from another model or dataset
        current = "train"
    missing = " No kept full fine-tuning run of this model and dataset yet: tick 'Keep the trained model' on one."
    return st.selectbox(
        field["name"],
        options,
        index=options.index(current),
        format_func=lambda o: "trained first, in this run" if o == "train" else names[o],
        help=field["help"] + ("" if kept else missing),
        key=f"exp.t.{name}.{field['name']}",
        persist_state="session",
    )


def technique_help(name: str) -> str:
    """A technique's tooltip: what it does, its lesson and its source, from its own facts."""
    info = describe(name)
    return f"{info['summary']} {info['lesson']} Source: {info['citation']}"
