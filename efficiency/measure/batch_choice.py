"""A batch size and precision for a device, chosen by measuring training steps there.

A small model on a GPU is launch-bound: a step of batch 16 takes as long as one of 64 (measured on
an H200, README), so examples/s grow with the batch until the matrices fill the device. The choice
is the fastest precision at the smallest batch within `KNEE_SHARE` of the best rate, among batches
that still leave `MIN_STEPS_PER_EPOCH` optimiser steps in an epoch (a tiny dataset cannot use a large
batch however fast it runs: it would take too few steps to learn).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import torch

from efficiency.errors import ConfigError

if TYPE_CHECKING:
    from efficiency.batching import EncodedSplit

SIZES = (16, 32, 64, 128, 256, 512)
DTYPES = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}
KNEE_SHARE = 0.9
MIN_STEPS_PER_EPOCH = 32


@dataclass
class BatchChoice:
    batch_size: int
    dtype: str  # fp32 | bf16 | fp16
    examples_per_s: float  # of the timed forward and backward pass at the chosen point
    rows: list[dict[str, Any]] = field(default_factory=list)  # every point measured
    reason: str = ""

    @property
    def techniques(self) -> list[str]:
        """The choice as the CLI's technique specs: amp for bf16, nothing for fp32."""
        return ["amp:dtype=bf16"] if self.dtype == "bf16" else []


def largest_useful(examples: int, sizes: tuple[int, ...] = SIZES, min_steps: int = MIN_STEPS_PER_EPOCH) -> int:
    """The largest candidate batch that still leaves `min_steps` steps per epoch (the smallest, at least)."""
    useful = [size for size in sizes if examples / size >= min_steps]
    return max(useful) if useful else min(sizes)


def measure(
    model: torch.nn.Module,
    split: EncodedSplit,
    pad_id: int,
    device: torch.device,
    sizes: tuple[int, ...] = SIZES,
    dtypes: tuple[str, ...] = ("fp32", "bf16"),
    steps: int = 3,
) -> list[dict[str, Any]]:
    """Examples/s of one forward and backward pass at each batch size and precision; out of memory is a row."""
    from efficiency.training import time_steps

    rows = []
    for name in dtypes:
        for size in sizes:
            row: dict[str, Any] = {"dtype": name, "batch_size": size}
            try:
                figures = time_steps(model, split, size, pad_id, device, DTYPES[name], steps)
                row.update(figures, examples_per_s=1000 * size / figures["step_ms"])
            except torch.OutOfMemoryError:
                row["error"] = "out of memory"
            if device.type == "cuda":
                torch.cuda.empty_cache()
            rows.append(row)
    return rows


def choose(rows: list[dict[str, Any]], examples: int, min_steps: int = MIN_STEPS_PER_EPOCH) -> BatchChoice:
    """The knee of the measured rates among batches small enough for `examples` (see the module's note)."""
    cap = largest_useful(examples, tuple(sorted({r["batch_size"] for r in rows})), min_steps)
    usable = [r for r in rows if "examples_per_s" in r and r["batch_size"] <= cap]
    if not usable:
        raise ConfigError(
            "No batch size could be timed on this device: even the smallest ran out of memory. Choose a smaller "
            "model or a shorter max_length, or switch measure_batch_size off and set a small batch_size."
        )
    best = max(r["examples_per_s"] for r in usable)
    knee = min((r for r in usable if r["examples_per_s"] >= KNEE_SHARE * best),
               key=lambda r: (r["batch_size"], -r["examples_per_s"]))  # fmt: skip
    reason = (
        f"{knee['dtype']} at batch {knee['batch_size']}: {knee['examples_per_s']:,.0f} examples/s in a timed step, "
        f"within {KNEE_SHARE:.0%} of the best measured ({best:,.0f}) among batches up to {cap} "
        f"(at least {min_steps} steps per epoch of {examples} examples)"
    )
    return BatchChoice(knee["batch_size"], knee["dtype"], knee["examples_per_s"], rows, reason)


def dtype_name(dtype: torch.dtype | None) -> str:
    """The name `measure` knows a precision by: fp32 for None (no autocast)."""
    return next(name for name, value in DTYPES.items() if value == dtype)


def for_run(
    model: torch.nn.Module, split: EncodedSplit, pad_id: int, device: torch.device, dtype: torch.dtype | None
) -> BatchChoice:
    """A run's batch size, measured in its own precision: the sizes that leave enough steps, each timed once."""
    candidates = tuple(size for size in SIZES if size <= largest_useful(len(split), SIZES, MIN_STEPS_PER_EPOCH))
    if len(candidates) == 1:  # nothing to compare: a small dataset keeps the smallest batch
        only = candidates[0]
        reason = f"batch {only}, the smallest: no larger one leaves {MIN_STEPS_PER_EPOCH} steps per epoch of {len(split)} examples; nothing was timed"
        return BatchChoice(only, dtype_name(dtype), 0.0, [], reason)
    rows = measure(model, split, pad_id, device, candidates, (dtype_name(dtype),), steps=2)
    return choose(rows, len(split), MIN_STEPS_PER_EPOCH)
