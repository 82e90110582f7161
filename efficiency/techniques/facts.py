"""What a technique is, as facts that read without torch: its words, pillar, stage, settings and cost rule.

The registry (registry.py), the CLI listing, the pages and the cost estimate read these records; the
hooks that do the work live beside them, in the technique's own module (see hooks.py for the list).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

# The three pillars of efficiency, in the order the Experiment page shows them: fewer or better examples
# (data), fewer parameters to train (effort), less computation per example (compute).
PILLARS = ("data", "effort", "compute")
# The fixed order in which the pipeline applies techniques (see techniques/__init__.py).
STAGES = ("data", "model", "adapter", "precision", "after_training")

# One exclusive group today: the ways of choosing which parameters train replace each other.
WHAT_TRAINS = "what trains"


@dataclass(frozen=True)
class Work:
    """A technique's effect on a run's work, by a rule of thumb: shares of full fine-tuning's work."""

    rule: str  # the rule in words, shown with the estimate
    case: str = ""  # which of the technique's rules applied, where it has several (a key of its `rules`)
    data_share: float = 1.0  # examples trained on over all examples, scoring passes included
    layer_share: float = 1.0  # layers run over the model's layers
    backward_share: float = 1.0  # the backward pass's share run: 1 activations and weights, 0.5 no weights, 0 none
    teacher: bool = False  # a teacher is fully fine-tuned first, in the same job


WorkRule = Callable[[Mapping[str, Any], "int | None"], Work]
Words = Callable[[Mapping[str, Any]], str]


@dataclass(frozen=True)
class TechniqueFacts:
    """Everything about a technique except its hooks: what the CLI lists, the pages show and the estimate prices."""

    name: str  # the registry name, used in configs, on the CLI and in stored runs
    title: str  # the words a student reads: 'LoRA', 'Mixed precision'
    pillar: str  # one of PILLARS
    stage: str  # one of STAGES (a technique may move by its settings: its `stage_of` hook)
    summary: str  # one sentence: the app's help line
    lesson: str  # a short paragraph for the lesson pages
    citation: str
    config: type  # the settings dataclass; its fields' help texts are the CLI help and the tooltips
    # work(settings, num_layers): the rule of thumb for these settings (defaults filled in) on a model of
    # num_layers layers (None: not known). A technique that leaves the FLOPs alone says so in its rule.
    work: WorkRule
    rules: Mapping[str, str]  # every case of its rule in words, by case ('' for a single rule): the Methods page
    exclusive: str | None = None  # a group whose members replace each other: at most one per run
    # Its kept model is not the dense base architecture (layers or heads removed, zeros, int8, a student):
    # it cannot stand in for a full fine-tuning (as a distillation teacher).
    reshapes_model: bool = False
    # The setting that names its teacher, 'train' or a kept run's id: the Experiment page lists the kept runs.
    teacher_setting: str | None = None
    # words(settings): these settings (defaults filled in) in words a class reads, as a chart names a point:
    # 'LoRA r=8', 'Half the layers removed'. None: its title says it all.
    words: Words | None = None

    def __post_init__(self) -> None:
        if self.pillar not in PILLARS:
            raise ValueError(f"{self.name}: pillar '{self.pillar}' is not one of {', '.join(PILLARS)}.")
        if self.stage not in STAGES:
            raise ValueError(f"{self.name}: stage '{self.stage}' is not one of {', '.join(STAGES)}.")
        if not self.rules:
            raise ValueError(f"{self.name}: give its cost rule in words, even if it is 'same FLOPs'.")


def share_in_words(share: float) -> str:
    """0.5 -> 'half', 0.25 -> 'a quarter', 0.4 -> '40%': how a teacher says a share aloud."""
    spoken = {0.5: "half", 0.25: "a quarter", 0.75: "three quarters", 0.1: "a tenth", 0.2: "a fifth"}
    return next((w for value, w in spoken.items() if abs(share - value) < 1e-9), f"{share:.0%}")


def share_of(share: float, things: str) -> str:
    """'half the layers', 'a quarter of the layers', '40% of the layers'."""
    words = share_in_words(share)
    return f"{words} the {things}" if words == "half" else f"{words} of the {things}"


# A rule shared by the adapters and BitFit: the base's weights get no gradients, activations still do.
FROZEN_BASE = {"": "frozen base: no weight gradients, so about 2 x forward"}


def frozen_base(settings: Mapping[str, Any], num_layers: int | None) -> Work:
    return Work(FROZEN_BASE[""], backward_share=0.5)
