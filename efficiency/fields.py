"""Typed settings: one helper for the run config's fields and the techniques' settings alike.

A setting is a dataclass field whose metadata carries its help text (the CLI's help and the app's
tooltip), and optionally its command-line flag, its allowed values and its upper limit. `typed` checks a
value from JSON or the command line against the field's annotation and says by name what is wrong;
`beyond_limit` names the first value above its field's limit.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import field
from typing import Any

from efficiency.errors import ConfigError


def setting(
    default: Any = None,
    help: str = "",
    choices: tuple[Any, ...] | None = None,
    *,
    flag: str | None = None,
    factory: Any = None,
    at_most: float | None = None,
) -> Any:
    """A dataclass field with its help text and, optionally, its flag, its allowed values and its limit.

    `at_most`: the largest number allowed, or for text the most characters.
    """
    metadata = {"help": help, "flag": flag, "choices": choices, "at_most": at_most}
    if factory is not None:
        return field(default_factory=factory, metadata=metadata)
    if isinstance(default, list):  # a fresh list per instance, never one shared default
        return field(default_factory=lambda: list(default), metadata=metadata)
    return field(default=default, metadata=metadata)


def typed(value: Any, annotation: Any, where: str, *, from_cli: bool = False) -> Any:
    """`value` checked against `annotation`: 3 for a float is 3.0, '3' for an int is refused by name.

    `from_cli`: a technique's settings typed as NAME:key=value, where the CLI cannot know the type, so 12
    for a str is '12' and a single value for a list is a list of one (`target_modules=query`).
    """
    origin = typing.get_origin(annotation)
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where} must be an object.")
        return value
    if origin is list:
        if not isinstance(value, list) and not from_cli:
            raise ConfigError(f"{where} must be a list.")
        items = value if isinstance(value, list) else [value]
        return [typed(v, args[0], where, from_cli=from_cli) for v in items] if args else items
    if origin in (typing.Union, types.UnionType):  # Optional[X], X | None
        if value is None:
            if type(None) in typing.get_args(annotation):
                return None
            raise ConfigError(f"{where} cannot be empty.")
        return typed(value, args[0], where, from_cli=from_cli)
    if value is None:
        raise ConfigError(f"{where} cannot be empty.")
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if annotation is float and number:
        return float(value)
    if annotation is str and number and from_cli:
        return str(value)  # the CLI reads 'teacher=12' as a number; the field wants its text
    if annotation in (int, float, str, bool) and (
        not isinstance(value, annotation) or (annotation is int and isinstance(value, bool))
    ):
        raise ConfigError(f"{where} is {value!r}: it must be {annotation.__name__}.")
    return value


def base_type(annotation: Any) -> type:
    """int | None -> int; a plain annotation as it is."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return next(a for a in typing.get_args(annotation) if a is not type(None))
    return annotation


def beyond_limit(settings: Any, where: str = "") -> str | None:
    """The first setting of a dataclass above its `at_most`, as a message that gives the limit (None: all within)."""
    for f in dataclasses.fields(settings):
        limit, value = f.metadata.get("at_most"), getattr(settings, f.name)
        if limit is None or value is None:
            continue
        name = f"{where}{f.name}"
        if isinstance(value, str) and len(value) > limit:
            return f"{name} is {len(value):,} characters long: the limit is {limit:,}. Shorten it."
        if isinstance(value, int | float) and not isinstance(value, bool) and value > limit:
            return f"{name} is {value:,}: the limit is {limit:,}. Use a smaller value."
    return None


def help_of(cls: type, name: str) -> str:
    """The help text of a setting: the CLI's help and the app's tooltip."""
    return next(f.metadata.get("help", "") for f in dataclasses.fields(cls) if f.name == name)


def describe(cls: type) -> list[dict[str, Any]]:
    """Each setting's name, type, default, help and choices: for listings and generated widgets."""
    hints = typing.get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
        out.append(
            {
                "name": f.name,
                "type": getattr(hints[f.name], "__name__", str(hints[f.name])),
                "default": default,
                "help": f.metadata.get("help", ""),
                "choices": list(f.metadata["choices"]) if f.metadata.get("choices") else None,
                "at_most": f.metadata.get("at_most"),
            }
        )
    return out
