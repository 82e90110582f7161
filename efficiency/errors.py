"""User-facing errors: each says what went wrong and what to do about it."""

from __future__ import annotations


class EfficiencyError(Exception):
    """Base class: the message is written for the person at the keyboard, never a traceback."""


class ConfigError(EfficiencyError):
    """An impossible or inconsistent setting."""


class DataError(EfficiencyError):
    """A dataset that is missing, malformed or unsuitable."""


class ModelLoadError(EfficiencyError):
    """A model that cannot be loaded (unknown name, no network, wrong files)."""
