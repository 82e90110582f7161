"""Parameter counts and the size of a model's weights on disk."""

from __future__ import annotations

import io
import os
import tempfile

import torch
from safetensors.torch import save_file

METHOD = (
    "bytes of the state dict written to disk, in MiB: as safetensors, or with torch.save for quantized models "
    "(whose packed int8 weights safetensors cannot write)"
)


def parameter_counts(model: torch.nn.Module) -> tuple[int, int]:
    """(total, trainable) parameters."""
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return total, trainable


def embedding_parameter_count(model: torch.nn.Module) -> int:
    """Parameters of the embedding tables: looked up, not multiplied, so the 6·N·D rule leaves them out."""
    return sum(
        p.numel() for m in model.modules() if isinstance(m, torch.nn.Embedding) for p in m.parameters(recurse=False)
    )


def saved_size_mb(model: torch.nn.Module) -> float:
    """Bytes of the model's state dict written as safetensors, in MiB (measured by writing it).

    Quantized models hold packed parameters that safetensors cannot write: those are sized with torch.save.
    """
    raw = model.state_dict()
    if not all(isinstance(v, torch.Tensor) and not v.is_quantized for v in raw.values()):
        buffer = io.BytesIO()
        torch.save(raw, buffer)
        return buffer.tell() / 2**20
    state = {k: v.detach().contiguous().cpu() for k, v in raw.items()}
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.safetensors")
        save_file(_untied(state), path)
        return os.path.getsize(path) / 2**20


def _untied(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """safetensors refuses tensors that share storage (tied embeddings): keep the first of each."""
    seen: set[int] = set()
    out = {}
    for name, tensor in state.items():
        key = tensor.untyped_storage().data_ptr()
        if key in seen and tensor.numel():
            continue
        seen.add(key)
        out[name] = tensor
    return out
