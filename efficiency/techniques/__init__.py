"""Efficiency techniques as plug-ins: one module each, one registry line each.

Techniques compose in one fixed order of stages (see `ORDER` and techniques/base.py for the
hooks): data (filter), then the model's shape (structured pruning; distillation's student), then
adapters (PEFT and restricted fine-tuning), then training precision (amp), then after training
(one-shot pruning, quantization).
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F

from efficiency.errors import ConfigError
from efficiency.techniques import amp, distill, ia3, lora, prefix, prune, quant, restricted
from efficiency.techniques import filter as data_filter
from efficiency.techniques.base import Technique, TechniqueContext, describe_config

if TYPE_CHECKING:
    from efficiency.config import RunConfig
    from efficiency.data.splits import TextSplit

ORDER = ("data", "model", "adapter", "precision", "after_training")

REGISTRY: dict[str, type[Technique]] = {
    "filter": data_filter.Filter,
    "distill": distill.Distill,
    "prune": prune.Prune,
    "lora": lora.LoRA,
    "prefix": prefix.Prefix,
    "ia3": ia3.IA3,
    "bitfit": restricted.BitFit,
    "freeze": restricted.Freeze,
    "probe": restricted.Probe,
    "amp": amp.Amp,
    "quant": quant.Quant,
}

# Only one way of choosing what trains: these replace each other.
EXCLUSIVE = {"lora", "prefix", "ia3", "bitfit", "freeze", "probe"}


def build(config: RunConfig) -> Pipeline:
    """Instantiate the configured techniques (settings parsed and checked, nothing applied yet)."""
    for spec in config.techniques:
        if spec.name not in REGISTRY:
            raise ConfigError(f"Unknown technique '{spec.name}'. Known techniques: {', '.join(sorted(REGISTRY))}.")
    return Pipeline([REGISTRY[spec.name](spec.params) for spec in config.techniques])


def validate_techniques(config: RunConfig, device: torch.device | None = None) -> Pipeline:
    """Refuse unknown techniques, bad settings and combinations that cannot work, with what to change."""
    pipeline = build(config)
    names = [t.name for t in pipeline.items]
    chosen = sorted(EXCLUSIVE.intersection(names))
    if len(chosen) > 1:
        raise ConfigError(f"{' and '.join(chosen)} each choose what trains: switch on one of them.")
    if names and config.model.name == "tfidf-logreg":
        raise ConfigError("The techniques act on transformers: choose a transformer model, not tfidf-logreg.")
    if device is not None:
        pipeline.check(config, device)
    return pipeline


class Pipeline:
    """The configured techniques in stage order, and the engine's calls into their hooks."""

    def __init__(self, items: list[Technique]) -> None:
        self.items = sorted(items, key=lambda t: (ORDER.index(stage_of(t)), getattr(t, "priority", 1)))

    def _with(self, hook: str) -> list[Any]:
        return [t for t in self.items if hasattr(t, hook)]

    def check(self, run: RunConfig, device: torch.device) -> None:
        for technique in self._with("check"):
            technique.check(run, device)

    def filter_data(self, train: TextSplit, ctx: TechniqueContext) -> TextSplit:
        for technique in self._with("filter_data"):
            train = technique.filter_data(train, ctx)
        return train

    def transform_model(self, model: torch.nn.Module, ctx: TechniqueContext) -> torch.nn.Module:
        for technique in self._with("transform_model"):
            model = technique.transform_model(model, ctx)
        return model

    def example_losses(self, logits: torch.Tensor, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Per-example training losses: a technique's own (distillation), else cross-entropy."""
        for technique in self._with("example_losses"):
            return technique.example_losses(logits, batch)
        return F.cross_entropy(logits.float(), batch["labels"], reduction="none")

    def selector(self, split: Any, pad_id: int, device: torch.device, autocast: Any, flops: Any) -> Any:
        """The in-loop example selector of a data technique (multistage filtering), or None."""
        for technique in self._with("make_selector"):
            selector = technique.make_selector(split, pad_id, device, autocast, flops)
            if selector is not None:
                return selector
        return None

    def on_step(self, step: int, total_steps: int, model: torch.nn.Module) -> None:
        for technique in self._with("on_step"):
            technique.on_step(step, total_steps, model)

    def after_training(self, model: torch.nn.Module, ctx: TechniqueContext) -> torch.nn.Module:
        for technique in self._with("after_training"):
            model = technique.after_training(model, ctx)
        return model

    def autocast(self, device: torch.device) -> Any:
        """The autocast context for forward passes (a no-op without amp)."""
        for technique in self._with("autocast_dtype"):
            return torch.autocast(device_type=device.type, dtype=technique.autocast_dtype(device))
        return nullcontext()

    def grad_scaler(self, device: torch.device) -> torch.amp.GradScaler | None:
        if any(t.needs_grad_scaler() for t in self._with("needs_grad_scaler")):
            return torch.amp.GradScaler(device.type)
        return None

    def load_options(self) -> dict[str, Any]:
        """Extra from_pretrained arguments (bitsandbytes quantization of the base model)."""
        options: dict[str, Any] = {}
        for technique in self._with("load_options"):
            options.update(technique.load_options())
        return options

    def keep_last_epoch(self) -> bool:
        """Whether the last epoch, not the best on validation, must be kept (a schedule that ends at its target)."""
        return any(getattr(t, "keep_last_epoch", False) for t in self.items)

    def default_learning_rate(self) -> float | None:
        rates = [t.default_learning_rate for t in self.items if getattr(t, "default_learning_rate", None)]
        return rates[0] if rates else None

    def reports(self) -> dict[str, Any]:
        return {t.name: t.report() for t in self.items}


def stage_of(technique: Technique) -> str:
    return getattr(technique, "stage_of", technique.stage)


def describe(name: str) -> dict[str, Any]:
    """A technique's name, stage, summary, lesson, settings (defaults, help, choices) and citation."""
    technique = REGISTRY[name]
    return {
        "name": name,
        "stage": technique.stage,
        "summary": technique.summary,
        "lesson": technique.lesson,
        "citation": technique.citation,
        "fields": describe_config(technique.Config),
    }
