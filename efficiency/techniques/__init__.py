"""Efficiency techniques as plug-ins: one module each, ending in one `register(...)` call.

Each module holds a technique's facts (facts.py: title, pillar, lesson, citation, settings, cost rule)
and the class with its hooks (hooks.py lists them all). Importing this package registers them all
without importing torch: the CLI listing, the pages and the cost estimate read the facts, and torch
is imported when a hook runs. Techniques compose in one fixed order of stages (`ORDER`): data (filter),
then the model's shape (structured pruning; distillation's student), then adapters (PEFT and
restricted fine-tuning), then training precision (amp), then after training (one-shot pruning,
quantization).
"""

from __future__ import annotations

import importlib
from contextlib import nullcontext
from typing import TYPE_CHECKING, Any

from efficiency.errors import ConfigError
from efficiency.fields import describe as describe_fields
from efficiency.model_names import TFIDF
from efficiency.techniques.base import Technique, TechniqueContext
from efficiency.techniques.facts import PILLARS, STAGES, TechniqueFacts, Work
from efficiency.techniques.hooks import HOOK_NAMES
from efficiency.techniques.registry import FACTS, HOOKS, facts_of, group, in_pillar, in_words, register, unregister

if TYPE_CHECKING:
    import torch

    from efficiency.config import RunConfig
    from efficiency.data.splits import TextSplit

__all__ = [
    "FACTS",
    "ORDER",
    "PILLARS",
    "REGISTRY",
    "Pipeline",
    "Technique",
    "TechniqueContext",
    "TechniqueFacts",
    "Work",
    "build",
    "describe",
    "facts_of",
    "group",
    "in_pillar",
    "in_words",
    "register",
    "stage_of",
    "unregister",
    "validate_techniques",
]
# The technique modules, each registering itself when imported. Imported in this order, which is the
# order the pages list the techniques in (the Experiment page's toggles, the Methods page's table).
MODULES = ("filter", "distill", "prune", "lora", "prefix", "ia3", "restricted", "amp", "quant")
for _module in MODULES:
    importlib.import_module(f"{__name__}.{_module}")

ORDER = STAGES

# name -> the class whose instances carry the technique's hooks (the same dict the registry fills).
REGISTRY: dict[str, type[Technique]] = HOOKS


def build(config: RunConfig) -> Pipeline:
    """Instantiate the configured techniques (settings parsed and checked, nothing applied yet)."""
    for spec in config.techniques:
        facts_of(spec.name)  # refuses an unknown name, listing the known ones
    return Pipeline([REGISTRY[spec.name](spec.params) for spec in config.techniques])


def validate_techniques(config: RunConfig, device: torch.device | None = None) -> Pipeline:
    """Refuse unknown techniques, bad settings and combinations that cannot work, with what to change."""
    pipeline = build(config)
    names = [t.name for t in pipeline.items]
    groups: dict[str, list[str]] = {}
    for name in names:
        if FACTS[name].exclusive:
            groups.setdefault(FACTS[name].exclusive, []).append(name)
    for what, chosen in groups.items():
        if len(chosen) > 1:
            raise ConfigError(f"{' and '.join(sorted(chosen))} each choose {what}: switch on one of them.")
    if names and config.model.name == TFIDF:
        raise ConfigError("The techniques act on transformers: choose a transformer model, not tfidf-logreg.")
    if device is not None:
        pipeline.check(config, device)
    return pipeline


def _hook(technique: Technique, name: str, default: Any = None) -> Any:
    """A hook attribute of one technique, or the default; only hooks listed in hooks.py are asked for."""
    assert name in HOOK_NAMES, f"{name} is not a documented hook: add it to efficiency/techniques/hooks.py"
    return getattr(technique, name, default)


class Pipeline:
    """The configured techniques in stage order, and the engine's calls into their hooks."""

    def __init__(self, items: list[Technique]) -> None:
        self.items = sorted(items, key=lambda t: (ORDER.index(stage_of(t)), _hook(t, "priority", 1)))

    def _with(self, hook: str) -> list[Any]:
        assert hook in HOOK_NAMES, f"{hook} is not a documented hook: add it to efficiency/techniques/hooks.py"
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
        import torch.nn.functional as F

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

    def kept_shape(self, model: torch.nn.Module) -> dict[str, Any]:
        """What the techniques need to rebuild the kept model's shape, beyond its transformers config."""
        shape: dict[str, Any] = {}
        for technique in self._with("kept_shape"):
            shape.update(technique.kept_shape(model))
        return shape

    def rebuild(self, model: torch.nn.Module, shape: dict[str, Any]) -> torch.nn.Module:
        """An untrained model reshaped as the techniques left the kept one, in the order they acted."""
        for technique in self._with("rebuild"):
            model = technique.rebuild(model, shape)
        return model

    def autocast(self, device: torch.device) -> Any:
        """The autocast context for forward passes (a no-op without amp)."""
        import torch

        dtype = self.autocast_dtype(device)
        return torch.autocast(device_type=device.type, dtype=dtype) if dtype is not None else nullcontext()

    def autocast_dtype(self, device: torch.device) -> torch.dtype | None:
        """The lower precision the forward passes run in, or None for fp32 (no amp)."""
        for technique in self._with("autocast_dtype"):
            return technique.autocast_dtype(device)
        return None

    def grad_scaler(self, device: torch.device) -> torch.amp.GradScaler | None:
        import torch

        if any(t.needs_grad_scaler() for t in self._with("needs_grad_scaler")):
            return torch.amp.GradScaler(device.type)
        return None

    def fused_optimizer(self, device: torch.device) -> bool:
        """Whether AdamW steps with its fused kernel; without a technique asking, foreach (fp32 runs as ever)."""
        return any(t.fused_optimizer(device) for t in self._with("fused_optimizer"))

    def load_options(self) -> dict[str, Any]:
        """Extra from_pretrained arguments (bitsandbytes quantization of the base model)."""
        options: dict[str, Any] = {}
        for technique in self._with("load_options"):
            options.update(technique.load_options())
        return options

    def keep_last_epoch(self) -> bool:
        """Whether the last epoch, not the best on validation, must be kept (a schedule that ends at its target)."""
        return any(_hook(t, "keep_last_epoch", False) for t in self.items)

    def default_learning_rate(self) -> float | None:
        rates = [rate for t in self.items if (rate := _hook(t, "default_learning_rate"))]
        return rates[0] if rates else None

    def reports(self) -> dict[str, Any]:
        return {t.name: t.report() for t in self.items}


def stage_of(technique: Technique) -> str:
    """Its stage for its settings (pruning moves by its method), else the stage in its facts."""
    return _hook(technique, "stage_of", technique.facts.stage)


def describe(name: str) -> dict[str, Any]:
    """A technique's facts as plain data: name, title, pillar, stage, words, settings and citation."""
    facts = facts_of(name)
    return {
        "name": facts.name,
        "title": facts.title,
        "pillar": facts.pillar,
        "stage": facts.stage,
        "exclusive": facts.exclusive,
        "summary": facts.summary,
        "lesson": facts.lesson,
        "citation": facts.citation,
        "rules": dict(facts.rules),
        "fields": describe_fields(facts.config),
    }
