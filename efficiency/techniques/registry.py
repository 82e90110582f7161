"""The registry: each technique module ends with one `register(...)` call (as peft's `register_peft_method`).

Plain dicts, filled at import and read everywhere: the facts without torch, the hooks when a run builds them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from efficiency.errors import ConfigError
from efficiency.techniques.base import parse_params
from efficiency.techniques.facts import TechniqueFacts

if TYPE_CHECKING:
    from efficiency.techniques.base import Technique

FACTS: dict[str, TechniqueFacts] = {}
HOOKS: dict[str, type[Technique]] = {}  # name -> the class whose instances carry the hooks


def register(facts: TechniqueFacts, hooks: type[Technique]) -> None:
    """Add a technique: its facts and the class with its hooks (which then reads its facts as `facts`)."""
    if facts.name in FACTS:
        raise ValueError(f"A technique named '{facts.name}' is registered already.")
    hooks.facts = facts
    FACTS[facts.name] = facts
    HOOKS[facts.name] = hooks


def unregister(name: str) -> None:
    """Remove a technique (for tests that register one of their own)."""
    FACTS.pop(name, None)
    HOOKS.pop(name, None)


def facts_of(name: str) -> TechniqueFacts:
    """A technique's facts, or the error naming those that exist."""
    if name not in FACTS:
        raise ConfigError(f"Unknown technique '{name}'. Known techniques: {', '.join(sorted(FACTS))}.")
    return FACTS[name]


def in_pillar(pillar: str) -> list[TechniqueFacts]:
    """The techniques of one pillar, in the order they were registered."""
    return [f for f in FACTS.values() if f.pillar == pillar]


def group(name: str) -> list[TechniqueFacts]:
    """The members of one exclusive group, in the order they were registered."""
    return [f for f in FACTS.values() if f.exclusive == name]


def in_words(name: str, params: Mapping[str, Any]) -> str:
    """A technique with its settings in words ('LoRA r=8'); its title where the settings no longer parse."""
    facts = facts_of(name)
    if facts.words is None:
        return facts.title
    try:
        settings = dataclasses.asdict(parse_params(facts.config, dict(params), name))
    except ConfigError:  # a run stored before a setting was renamed: its title still names it
        return facts.title
    return facts.words(settings)
