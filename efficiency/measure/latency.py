"""Inference latency per example at batch 1 and batch 32: median of timed repeats after a warm-up."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import torch

METHOD = (
    "wall clock of the forward pass on {n} test examples, at batch 1 (one by one) and as one batch of {n}, each "
    "batch gathered from the test split already on the device; {warmup} warm-up passes excluded, median of "
    "{repeats} repeats, per example"
)


def time_per_example_ms(
    run_batch: Callable[[list[int]], None],
    examples: list[int],
    batch_size: int,
    repeats: int,
    warmup: int = 2,
    sync: Callable[[], None] = lambda: None,
) -> float:
    """Median milliseconds per example to push `examples` through `run_batch` in batches of `batch_size`."""
    chunks = [examples[i : i + batch_size] for i in range(0, len(examples), batch_size)]
    timings = []
    for round_ in range(warmup + repeats):
        sync()
        start = time.perf_counter()
        for chunk in chunks:
            run_batch(chunk)
        sync()
        if round_ >= warmup:
            timings.append((time.perf_counter() - start) / len(examples))
    return statistics.median(timings) * 1000


def sync_for(device: torch.device) -> Callable[[], None]:
    """Wait for queued kernels, so a clock read measures them (CUDA and MPS run asynchronously)."""
    if device.type == "cuda":
        return lambda: torch.cuda.synchronize(device)
    if device.type == "mps":
        return torch.mps.synchronize
    return lambda: None
