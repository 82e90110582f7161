"""Keeping a trained model: transformers' own format where it can hold the model, else the module itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch


def save_model(model: torch.nn.Module, tokenizer: Any, folder: Path) -> str:
    quantized = any("quantized" in type(m).__module__ for m in model.modules())
    # Heads cut out of some layers have no place in a transformers config (v5 dropped `pruned_heads`):
    # from_pretrained would rebuild full-size layers and refuse the weights.
    heads = getattr(getattr(model, "config", None), "num_attention_heads", None)
    sliced = any(getattr(m, "num_attention_heads", heads) != heads for m in model.modules())
    if hasattr(model, "save_pretrained") and not quantized and not sliced:
        model.save_pretrained(folder)  # a PEFT model left unmerged saves its adapter only
    else:  # transformers cannot save quantized Linear layers nor sliced heads: pickle the module
        folder.mkdir(parents=True, exist_ok=True)
        torch.save(model, folder / "model.pt")
    tokenizer.save_pretrained(folder)
    return str(folder)
