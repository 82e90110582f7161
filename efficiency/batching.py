"""Tokenised splits and their batches: the leaf the engine, the techniques and the measurements share.

Tokenise once without padding; pad per batch to its longest example (dynamic padding); with length
buckets, similar lengths share a batch, so far fewer padding tokens go through the model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import torch.nn.functional as F

Batch = dict[str, torch.Tensor]
if TYPE_CHECKING:
    from efficiency.data.splits import TextSplit

BUCKET_BATCHES = 32  # batches per bucket: large enough to pad little, small enough to keep batches random


@dataclass
class EncodedSplit:
    ids: list[list[int]]
    labels: list[int]
    truncated: int  # examples cut at max_length

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def lengths(self) -> list[int]:
        return [len(x) for x in self.ids]


def encode(tokenizer: Any, split: TextSplit, max_length: int) -> EncodedSplit:
    """Tokenise once, unpadded; padding happens per batch."""
    ids = tokenizer(split.texts, truncation=True, max_length=max_length)["input_ids"]
    full = tokenizer(split.texts, truncation=False)["input_ids"] if split.texts else []
    truncated = sum(len(f) > max_length for f in full)
    return EncodedSplit(ids, list(split.labels), truncated)


def batch_order(
    lengths: Sequence[int], batch_size: int, rng: np.random.Generator | None, bucket: bool
) -> list[list[int]]:
    """Indices of each batch. Training: shuffled; with buckets, similar lengths share a batch."""
    indices = rng.permutation(len(lengths)) if rng is not None else np.arange(len(lengths))
    if bucket:
        span = batch_size * BUCKET_BATCHES
        chunks = [indices[i : i + span] for i in range(0, len(indices), span)]
        indices = np.concatenate([sorted(c, key=lambda i: lengths[i], reverse=True) for c in chunks])
    batches = [indices[i : i + batch_size].tolist() for i in range(0, len(indices), batch_size)]
    if rng is not None and bucket:
        rng.shuffle(batches)  # otherwise every bucket would run long-to-short
    return batches


def collate(split: EncodedSplit, indices: list[int], pad_id: int, device: torch.device) -> Batch:
    """Pad to the longest example of this batch (dynamic padding)."""
    width = max(len(split.ids[i]) for i in indices)
    input_ids = torch.full((len(indices), width), pad_id, dtype=torch.long)
    attention = torch.zeros((len(indices), width), dtype=torch.long)
    for row, i in enumerate(indices):
        seq = split.ids[i]
        input_ids[row, : len(seq)] = torch.tensor(seq)
        attention[row, : len(seq)] = 1
    labels = torch.tensor([split.labels[i] for i in indices])
    return {
        "input_ids": input_ids.to(device, non_blocking=True),
        "attention_mask": attention.to(device, non_blocking=True),
        "labels": labels.to(device, non_blocking=True),
        "index": torch.tensor(indices),  # positions in the split: cached teacher logits are looked up by them
    }


def logits_of(model: torch.nn.Module, batch: Batch) -> torch.Tensor:
    return model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits


def per_example_loss(model: torch.nn.Module, batch: Batch) -> torch.Tensor:
    return F.cross_entropy(logits_of(model, batch).float(), batch["labels"], reduction="none")


def mean_loss(model: torch.nn.Module, batch: Batch) -> torch.Tensor:
    return per_example_loss(model, batch).mean()
