"""Efficiency techniques as plug-ins: one module each, one registry line each.

The registry maps a technique's name to its class. Techniques compose in one fixed order
(data, model shape, adapters, precision, after training); see `ORDER`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from efficiency.errors import ConfigError

if TYPE_CHECKING:
    from efficiency.config import RunConfig

# The stage each technique acts in, in the order they are applied.
ORDER = ("data", "model", "adapter", "precision", "after_training")

# name -> technique class; filled one line per technique module.
REGISTRY: dict[str, Any] = {}


def validate_techniques(config: RunConfig) -> None:
    """Refuse unknown techniques by name, listing the known ones."""
    for spec in config.techniques:
        if spec.name not in REGISTRY:
            known = ", ".join(sorted(REGISTRY)) or "none yet"
            raise ConfigError(f"Unknown technique '{spec.name}'. Known techniques: {known}.")


def describe(name: str) -> dict[str, Any]:
    """A technique's name, summary, fields (with defaults and help) and citation, for listings and the app."""
    technique = REGISTRY[name]
    return {
        "name": name,
        "summary": getattr(technique, "summary", ""),
        "stage": getattr(technique, "stage", ""),
        "citation": getattr(technique, "citation", ""),
        "fields": [],
    }
