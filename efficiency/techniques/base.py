"""What a technique is in code: a config dataclass parsed from its settings, and the hooks where it acts.

A technique's facts (title, pillar, stage, lesson, citation, cost rule) are a TechniqueFacts record
(facts.py), registered with its hook class by one `register(...)` call at the end of its module. It
implements only the hooks it needs (hooks.py lists them all); the pipeline calls those present, in the
fixed order of stages: data (filtering), model (the model's shape: distillation's student, structured
pruning), adapter (PEFT and restricted fine-tuning), precision (autocast), after training (one-shot
pruning, quantization). Building a technique only stores its settings; the hooks do the work (as
scikit-learn's estimators: `__init__` stores, `fit` works). Nothing here imports torch: the facts and
the registry read without it, and the hooks import it when they run.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from efficiency.errors import ConfigError

if TYPE_CHECKING:
    import torch

    from efficiency.config import RunConfig
    from efficiency.techniques.facts import TechniqueFacts


def option(default: Any, help: str, choices: tuple[Any, ...] | None = None) -> Any:
    """A technique setting with its help text (the app's tooltip) and, optionally, its allowed values."""
    metadata = {"help": help, "choices": choices}
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata=metadata)
    return field(default=default, metadata=metadata)


@dataclass
class TechniqueContext:
    """What hooks may read: the run's config, device, tokenizer and label names."""

    run: RunConfig
    device: torch.device
    tokenizer: Any = None
    label_names: list[str] = field(default_factory=list)
    seed: int = 0
    # Measures a model as the run does (test accuracy, latency, size): for before/after comparisons.
    measure: Callable[[torch.nn.Module], dict[str, float]] | None = None
    # Times a forward and backward pass on a training batch, in fp32 (None) or under autocast(dtype).
    time_steps: Callable[[torch.nn.Module, torch.dtype | None], dict[str, float]] | None = None
    # For distillation: train a teacher with the run's loop, cache its logits, load a kept run's model.
    train_teacher: Callable[[torch.nn.Module], tuple[torch.nn.Module, dict[str, Any]]] | None = None
    teacher_logits: Callable[[torch.nn.Module], tuple[torch.Tensor, dict[str, Any]]] | None = None
    load_run_model: Callable[[int], torch.nn.Module | None] | None = None


class Technique:
    """Shared plumbing only (settings parsing and the report); behaviour lives in each technique's hooks."""

    facts: ClassVar[TechniqueFacts]  # set by register()

    def __init__(self, params: dict[str, Any] | None = None) -> None:
        self.config = parse_params(self.facts.config, params or {}, self.facts.name)
        self.stats: dict[str, Any] = {}

    @property
    def name(self) -> str:
        return self.facts.name

    def report(self) -> dict[str, Any]:
        return {"config": dataclasses.asdict(self.config), **self.stats}


def parse_params(cls: type, params: dict[str, Any], technique: str) -> Any:
    """Build a technique's config from CLI/JSON params: unknown keys and wrong types are refused by name."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(params) - set(fields))
    if unknown:
        raise ConfigError(f"{technique} has no setting {', '.join(unknown)}. Its settings: {', '.join(fields)}.")
    hints = typing.get_type_hints(cls)
    values = {}
    for key, value in params.items():
        values[key] = _coerce(value, hints[key], f"{technique}.{key}")
        choices = fields[key].metadata.get("choices")
        if choices and values[key] not in choices and not isinstance(values[key], list):
            raise ConfigError(f"{technique}.{key} is '{value}': choose one of {', '.join(map(str, choices))}.")
    config = cls(**values)
    check = getattr(config, "check", None)
    if check:
        check()
    return config


def _coerce(value: Any, annotation: Any, where: str) -> Any:
    origin = typing.get_origin(annotation)
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if origin is list:
        items = value if isinstance(value, list) else [value]
        return [_coerce(v, args[0], where) for v in items] if args else items
    if args and origin is not None and origin is not list:  # Optional[X] / X | None
        return None if value is None else _coerce(value, args[0], where)
    if annotation is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if annotation is float:
        raise ConfigError(f"{where} is {value!r}: it must be a number.")
    if annotation is str and isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)  # the CLI reads 'teacher=12' as a number; the field wants its text
    if annotation in (int, bool, str) and not isinstance(value, annotation):
        raise ConfigError(f"{where} is {value!r}: it must be {annotation.__name__}.")
    if annotation is int and isinstance(value, bool):
        raise ConfigError(f"{where} is {value!r}: it must be int.")
    return value


def describe_config(cls: type) -> list[dict[str, Any]]:
    """Fields, defaults, help and choices of a technique's config, for listings and widgets."""
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
            }
        )
    return out
