"""Prefix tuning: learn virtual key/value vectors prepended at every layer; the model stays frozen."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from efficiency.errors import ConfigError
from efficiency.fields import setting
from efficiency.techniques import _peft
from efficiency.techniques.base import Technique, TechniqueContext
from efficiency.techniques.facts import FROZEN_BASE, WHAT_TRAINS, TechniqueFacts, frozen_base
from efficiency.techniques.registry import register

if TYPE_CHECKING:
    import torch


@dataclass
class PrefixConfig:
    virtual_tokens: int = setting(20, "Virtual tokens prepended to the keys and values of every layer.", at_most=512)
    projection: bool = setting(
        False, "Reparametrise the prefix through a small MLP (more parameters, steadier training)."
    )

    def check(self) -> None:
        if not 1 <= self.virtual_tokens <= 512:
            raise ConfigError(f"prefix.virtual_tokens is {self.virtual_tokens}: use 1 to 512 (10 to 30 is usual).")


class Prefix(Technique):
    """Prefix tuning's hook: wrap the model with peft."""

    default_learning_rate: ClassVar[float] = 1e-2

    def transform_model(self, model: torch.nn.Module, ctx: TechniqueContext) -> torch.nn.Module:
        return _peft.wrap(model, self._peft_config(), self.stats)

    def rebuild(self, model: torch.nn.Module, shape: dict[str, Any]) -> torch.nn.Module:
        return _peft.wrap(model, self._peft_config(), {})  # never merged: the prefix stays beside the model

    def _peft_config(self) -> Any:
        from peft import PrefixTuningConfig, TaskType

        return PrefixTuningConfig(
            task_type=TaskType.SEQ_CLS,
            num_virtual_tokens=self.config.virtual_tokens,
            prefix_projection=self.config.projection,
        )


register(
    TechniqueFacts(
        name="prefix",
        title="Prefix tuning",
        pillar="effort",
        stage="adapter",
        summary="Freeze the model and learn a few virtual tokens that every layer attends to.",
        lesson=(
            "Prefix tuning trains only key and value vectors for a handful of virtual tokens at each layer, which "
            "steer the frozen model. It trains the fewest parameters of the PEFT methods here, but every sequence "
            "grows by the prefix, so each step costs more compute, and small models often learn less from it."
        ),
        citation="Li & Liang (2021). Prefix-Tuning: Optimizing Continuous Prompts for Generation. ACL 2021.",
        config=PrefixConfig,
        work=frozen_base,
        rules=FROZEN_BASE,
        words=lambda s: f"Prefix tuning, {s['virtual_tokens']} tokens",
        exclusive=WHAT_TRAINS,
    ),
    hooks=Prefix,
)
