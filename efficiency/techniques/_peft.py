"""Shared by the peft-backed techniques: wrap the model and record what is left to train."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch


def wrap(model: torch.nn.Module, peft_config: Any, stats: dict[str, Any]) -> torch.nn.Module:
    from peft import get_peft_model, prepare_model_for_kbit_training

    from efficiency.measure.size import parameter_counts

    if getattr(model, "is_loaded_in_4bit", False) or getattr(model, "is_loaded_in_8bit", False):
        model = prepare_model_for_kbit_training(model)  # QLoRA: fp32 norms and head, inputs that need grads
    wrapped = get_peft_model(model, peft_config)
    total, trainable = parameter_counts(wrapped)
    stats.update(trainable_params=trainable, total_params=total, trainable_pct=100 * trainable / total)
    return wrapped
