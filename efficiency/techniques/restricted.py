"""Restricted fine-tuning without adapters: train only the biases (BitFit), the top layers, or the head."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from efficiency.errors import ConfigError
from efficiency.fields import setting
from efficiency.techniques.base import Technique, TechniqueContext
from efficiency.techniques.facts import FROZEN_BASE, WHAT_TRAINS, TechniqueFacts, Work, frozen_base
from efficiency.techniques.registry import register

if TYPE_CHECKING:
    import torch

HEAD_NAMES = ("classifier", "pooler", "score")


def _is_head(name: str) -> bool:
    return name.split(".")[0] in HEAD_NAMES or any(f".{h}." in f".{name}" for h in HEAD_NAMES)


def _freeze_except(model: torch.nn.Module, keep: Callable[[str], bool], stats: dict) -> torch.nn.Module:
    from efficiency.measure.size import parameter_counts

    for name, param in model.named_parameters():
        param.requires_grad = bool(keep(name))
    total, trainable = parameter_counts(model)
    stats.update(trainable_params=trainable, total_params=total, trainable_pct=100 * trainable / total)
    return model


def _layer_index(name: str) -> int | None:
    parts = name.split(".")
    for i, part in enumerate(parts[:-1]):
        if part == "layer" and parts[i + 1].isdigit():
            return int(parts[i + 1])
    return None


@dataclass
class BitFitConfig:
    pass


class BitFit(Technique):
    """BitFit's hook: only biases and the head keep requires_grad."""

    default_learning_rate: ClassVar[float] = 5e-3

    def transform_model(self, model: torch.nn.Module, ctx: TechniqueContext) -> torch.nn.Module:
        return _freeze_except(model, lambda n: n.endswith(".bias") or _is_head(n), self.stats)


@dataclass
class FreezeConfig:
    train_top_layers: int = setting(
        2, "How many of the top transformer layers to train (the head always trains).", at_most=100
    )

    def check(self) -> None:
        if self.train_top_layers < 0:
            raise ConfigError(f"freeze.train_top_layers is {self.train_top_layers}: use 0 or more.")


class Freeze(Technique):
    """The hook that freezes all but the top k layers and the head."""

    default_learning_rate: ClassVar[float] = 3e-4

    def transform_model(self, model: torch.nn.Module, ctx: TechniqueContext) -> torch.nn.Module:
        layers = getattr(model.config, "num_hidden_layers", 0)
        k = self.config.train_top_layers
        if k > layers:
            raise ConfigError(f"freeze.train_top_layers is {k}, but the model has {layers} layers.")
        first_trained = layers - k

        def keep(name: str) -> bool:
            index = _layer_index(name)
            return _is_head(name) or (index is not None and index >= first_trained)

        self.stats["frozen_layers"] = first_trained
        return _freeze_except(model, keep, self.stats)


@dataclass
class ProbeConfig:
    pass


class Probe(Technique):
    """The linear probe's hook: only the head keeps requires_grad."""

    default_learning_rate: ClassVar[float] = 5e-3

    def transform_model(self, model: torch.nn.Module, ctx: TechniqueContext) -> torch.nn.Module:
        return _freeze_except(model, _is_head, self.stats)


# --- cost rules of thumb (efficiency/estimate.py) -----------------------------------------------------
FREEZE_RULE = "backward only through the top k of the model's layers"
PROBE_RULE = "frozen encoder: forward only (the head's cost is negligible)"


def _freeze_work(settings: Mapping[str, Any], num_layers: int | None) -> Work:
    if not num_layers:
        raise ConfigError("The freeze rule needs the model's layer count: calibrate this model first.")
    return Work(FREEZE_RULE, backward_share=min(1.0, settings["train_top_layers"] / num_layers))


def _probe_work(settings: Mapping[str, Any], num_layers: int | None) -> Work:
    return Work(PROBE_RULE, backward_share=0.0)


register(
    TechniqueFacts(
        name="bitfit",
        title="BitFit",
        pillar="effort",
        stage="adapter",
        summary="Train only the bias terms (and the classification head).",
        lesson=(
            "BitFit freezes every weight matrix and trains only the biases, about 0.1% of a BERT model. No new "
            "parameters, no extra compute at inference: a restricted fine-tuning that often comes close to full "
            "fine-tuning on small datasets, at a higher learning rate."
        ),
        citation=(
            "Ben Zaken, Ravfogel & Goldberg (2022). BitFit: Simple Parameter-efficient Fine-tuning for "
            "Transformer-based Masked Language-models. ACL 2022."
        ),
        config=BitFitConfig,
        work=frozen_base,
        rules=FROZEN_BASE,
        exclusive=WHAT_TRAINS,
    ),
    hooks=BitFit,
)


register(
    TechniqueFacts(
        name="freeze",
        title="Freeze lower layers",
        pillar="effort",
        stage="adapter",
        summary="Freeze the embeddings and lower layers; train only the top k layers and the head.",
        lesson=(
            "Lower layers hold general features of the language, upper layers task-specific ones. Training only the "
            "top layers skips the backward pass through the frozen bottom of the model: fewer FLOPs per step, less "
            "memory for gradients and optimiser state, and often little loss of accuracy."
        ),
        citation=(
            "Lee, Tang & Lin (2019). What Would Elsa Do? Freezing Layers During Transformer Fine-Tuning. arXiv:1911.03090."
        ),
        config=FreezeConfig,
        work=_freeze_work,
        rules={"": FREEZE_RULE},
        words=lambda s: f"Top {s['train_top_layers']} layers trained",
        exclusive=WHAT_TRAINS,
    ),
    hooks=Freeze,
)


register(
    TechniqueFacts(
        name="probe",
        title="Linear probe",
        pillar="effort",
        stage="adapter",
        summary="Freeze the whole model; train only the classification head (a linear probe).",
        lesson=(
            "A linear probe asks how much of the task the pretrained features already solve. It is the cheapest "
            "training there is: no backward pass through the transformer at all. The gap to full fine-tuning "
            "measures what adapting the features buys."
        ),
        citation="Alain & Bengio (2017). Understanding intermediate layers using linear classifier probes.",
        config=ProbeConfig,
        work=_probe_work,
        rules={"": PROBE_RULE},
        exclusive=WHAT_TRAINS,
    ),
    hooks=Probe,
)
