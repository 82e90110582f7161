"""Tokenised splits and their batches: the leaf the engine, the techniques and the measurements share.

Tokenise once without padding; pad per batch to its longest example (dynamic padding); with length
buckets, similar lengths share a batch, so far fewer padding tokens go through the model.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
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
    _on_device: dict[tuple[str, int], OnDevice] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def lengths(self) -> list[int]:
        return [len(x) for x in self.ids]

    def on(self, device: torch.device, pad_id: int) -> OnDevice:
        """The split as padded tensors on `device`, built once and kept: batches are then gathered there."""
        key = (str(device), pad_id)
        if key not in self._on_device:
            self._on_device[key] = OnDevice.build(self, device, pad_id)
        return self._on_device[key]


@dataclass
class OnDevice:
    """A split padded once to its longest example and sent to the device in one copy.

    A batch is then a gather and a slice there: no per-batch tensors built on the host and copied,
    which on a GPU costs more than the small model's forward pass. The lengths stay on the host too,
    so counting tokens never waits for the device.
    """

    ids: torch.Tensor  # (examples, longest) int32, padded with pad_id
    lengths: torch.Tensor  # (examples,) on the device
    labels: torch.Tensor  # (examples,) on the device
    host_lengths: np.ndarray
    device: torch.device

    @classmethod
    def build(cls, split: EncodedSplit, device: torch.device, pad_id: int) -> OnDevice:
        """Pad every example to the split's longest on the host, then send the whole split in one copy."""
        lengths = np.array(split.lengths, dtype=np.int64)
        width = int(lengths.max()) if len(lengths) else 1
        padded = np.full((len(lengths), width), pad_id, dtype=np.int32)
        for row, seq in enumerate(split.ids):
            padded[row, : len(seq)] = seq
        return cls(
            ids=torch.from_numpy(padded).to(device),
            lengths=torch.from_numpy(lengths).to(device),
            labels=torch.tensor(split.labels, dtype=torch.long).to(device),
            host_lengths=lengths,
            device=device,
        )

    def batch(self, indices: Sequence[int], on_device: torch.Tensor | None = None) -> Batch:
        """The examples at `indices`, padded to the longest of them; `on_device`: the same indices already there."""
        host = np.asarray(indices, dtype=np.int64)
        where = on_device if on_device is not None else torch.from_numpy(host).to(self.device, non_blocking=True)
        lengths = self.host_lengths[host]
        width = int(lengths.max())
        lengths_there = self.lengths[where]
        positions = torch.arange(width, device=self.device)
        return {
            "input_ids": self.ids[where, :width].long(),
            "attention_mask": (positions[None, :] < lengths_there[:, None]).long(),
            "labels": self.labels[where],
            "index": torch.from_numpy(host),  # positions in the split: cached teacher logits are looked up by them
            "length": torch.from_numpy(lengths),  # real tokens per example, on the host: counted without a sync
        }

    def batches(self, order: list[list[int]]) -> Iterator[Batch]:
        """Each batch of `order` in turn; the epoch's indices go to the device in one copy."""
        flat = np.fromiter((i for batch in order for i in batch), dtype=np.int64)
        there = torch.from_numpy(flat).to(self.device, non_blocking=True)
        start = 0
        for indices in order:
            yield self.batch(indices, there[start : start + len(indices)])
            start += len(indices)


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
    return split.on(device, pad_id).batch(indices)


def batches(split: EncodedSplit, order: list[list[int]], pad_id: int, device: torch.device) -> Iterator[Batch]:
    """The batches of `order`, gathered on the device from the split sent there once."""
    return split.on(device, pad_id).batches(order)


def logits_of(model: torch.nn.Module, batch: Batch) -> torch.Tensor:
    return model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits


def per_example_loss(model: torch.nn.Module, batch: Batch) -> torch.Tensor:
    return F.cross_entropy(logits_of(model, batch).float(), batch["labels"], reduction="none")


def mean_loss(model: torch.nn.Module, batch: Batch) -> torch.Tensor:
    return per_example_loss(model, batch).mean()
