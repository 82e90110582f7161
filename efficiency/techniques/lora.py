"""LoRA: train a low-rank update B·A beside each chosen weight matrix, the matrix itself frozen."""

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
class LoRAConfig:
    r: int = setting(8, "Rank of the update: the trainable matrices are d x r and r x d.", at_most=256)
    alpha: float = setting(16.0, "Scaling: the update is multiplied by alpha / r.", at_most=1024.0)
    dropout: float = setting(0.05, "Dropout on the LoRA branch's input.")
    target_modules: list[str] = setting(
        ["query", "value"], "Which linear layers get an update (BERT names: query, key, value, dense)."
    )
    merge: bool = setting(
        True, "After training, fold B·A into the frozen weights, so inference costs what the base model costs."
    )

    def check(self) -> None:
        if self.r < 1:
            raise ConfigError(f"lora.r is {self.r}: use a rank of at least 1 (4 to 16 is usual).")
        if not 0 <= self.dropout < 1:
            raise ConfigError(f"lora.dropout is {self.dropout}: use 0 up to (not including) 1.")
        if not self.target_modules:
            raise ConfigError("lora.target_modules is empty: name at least one layer, e.g. query+value.")


class LoRA(Technique):
    """LoRA's hooks: wrap the model with peft, merge the update after training."""

    default_learning_rate: ClassVar[float] = 5e-3  # measured: at 5e-4 LoRA stays under 0.6 macro-F1 on NusaX-senti

    def after_training(self, model: torch.nn.Module, ctx: TechniqueContext) -> torch.nn.Module:
        if not self.config.merge:
            return model  # unmerged: every Linear with an adapter runs two extra small matmuls at inference
        self.stats["merged"] = True
        return model.merge_and_unload()

    def transform_model(self, model: torch.nn.Module, ctx: TechniqueContext) -> torch.nn.Module:
        try:
            return _peft.wrap(model, self._peft_config(), self.stats)
        except ValueError as exc:
            raise ConfigError(
                f"LoRA could not find the layers {self.config.target_modules} in this model: {exc}"
            ) from exc

    def rebuild(self, model: torch.nn.Module, shape: dict[str, Any]) -> torch.nn.Module:
        return model if self.config.merge else _peft.wrap(model, self._peft_config(), {})

    def _peft_config(self) -> Any:
        from peft import LoraConfig, TaskType

        return LoraConfig(
            task_type=TaskType.SEQ_CLS,
            r=self.config.r,
            lora_alpha=self.config.alpha,
            lora_dropout=self.config.dropout,
            target_modules=list(self.config.target_modules),
        )


register(
    TechniqueFacts(
        name="lora",
        title="LoRA",
        pillar="effort",
        stage="adapter",
        summary="Freeze the model and train small low-rank updates of chosen weight matrices.",
        lesson=(
            "LoRA keeps every pretrained weight W frozen and learns an update W + (alpha/r)·B·A with B and A of rank r. "
            "At r = 8 on MiniLM that is well under 1% of the parameters: the optimiser state and gradients shrink, "
            "and many task adapters can share one base model. It needs a much higher learning rate than full "
            "fine-tuning, and on a small model the forward pass costs as much as before: LoRA saves memory and "
            "storage more than time."
        ),
        citation="Hu et al. (2022). LoRA: Low-Rank Adaptation of Large Language Models. ICLR 2022.",
        config=LoRAConfig,
        work=frozen_base,
        rules=FROZEN_BASE,
        words=lambda s: f"LoRA r={s['r']}",
        exclusive=WHAT_TRAINS,
    ),
    hooks=LoRA,
)
