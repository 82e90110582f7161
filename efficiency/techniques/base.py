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
from efficiency.fields import beyond_limit, typed

if TYPE_CHECKING:
    import torch

    from efficiency.config import RunConfig
    from efficiency.techniques.facts import TechniqueFacts


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
        values[key] = typed(value, hints[key], f"{technique}.{key}", from_cli=True)
        choices = fields[key].metadata.get("choices")
        if choices and values[key] not in choices and not isinstance(values[key], list):
            raise ConfigError(f"{technique}.{key} is '{value}': choose one of {', '.join(map(str, choices))}.")
    config = cls(**values)
    if message := beyond_limit(config, f"{technique}."):
        raise ConfigError(message)
    check = getattr(config, "check", None)
    if check:
        check()
    return config
