"""IA³: learn one scaling vector for the keys, values and feed-forward activations of each layer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from efficiency.fields import setting
from efficiency.techniques import _peft
from efficiency.techniques.base import Technique, TechniqueContext
from efficiency.techniques.facts import FROZEN_BASE, WHAT_TRAINS, TechniqueFacts, frozen_base
from efficiency.techniques.registry import register

if TYPE_CHECKING:
    import torch


@dataclass
class IA3Config:
    target_modules: list[str] = setting(
        ["key", "value", "output.dense"], "Layers whose activations are rescaled (BERT names)."
    )
    feedforward_modules: list[str] = setting(
        ["output.dense"], "Which of those are feed-forward layers (their input is rescaled instead of their output)."
    )
    merge: bool = setting(True, "After training, fold the scaling vectors into the weights (no inference overhead).")


class IA3(Technique):
    """IA³'s hooks: wrap the model with peft, merge the vectors after training."""

    default_learning_rate: ClassVar[float] = 1e-2

    def after_training(self, model: torch.nn.Module, ctx: TechniqueContext) -> torch.nn.Module:
        if not self.config.merge:
            return model
        self.stats["merged"] = True
        return model.merge_and_unload()

    def transform_model(self, model: torch.nn.Module, ctx: TechniqueContext) -> torch.nn.Module:
        return _peft.wrap(model, self._peft_config(), self.stats)

    def rebuild(self, model: torch.nn.Module, shape: dict[str, Any]) -> torch.nn.Module:
        return model if self.config.merge else _peft.wrap(model, self._peft_config(), {})

    def _peft_config(self) -> Any:
        from peft import IA3Config as PeftIA3Config
        from peft import TaskType

        return PeftIA3Config(
            task_type=TaskType.SEQ_CLS,
            target_modules=list(self.config.target_modules),
            feedforward_modules=list(self.config.feedforward_modules),
        )


register(
    TechniqueFacts(
        name="ia3",
        title="IA³",
        pillar="effort",
        stage="adapter",
        summary="Freeze the model and learn one scaling vector per key, value and feed-forward layer.",
        lesson=(
            "IA³ multiplies chosen activations by learned vectors, element by element: a few thousand numbers for a "
            "whole model, ten times fewer than LoRA. Like every adapter it leaves the forward pass as costly as before."
        ),
        citation=(
            "Liu et al. (2022). Few-Shot Parameter-Efficient Fine-Tuning is Better and Cheaper than In-Context "
            "Learning. NeurIPS 2022."
        ),
        config=IA3Config,
        work=frozen_base,
        rules=FROZEN_BASE,
        exclusive=WHAT_TRAINS,
    ),
    hooks=IA3,
)
