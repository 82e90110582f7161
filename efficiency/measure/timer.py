"""Wall-clock timing of named phases (train, eval, test, ...), with a CUDA sync where it matters."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager

import torch


class PhaseTimer:
    """Accumulates wall seconds per phase; `with timer.phase("train"): ...`."""

    def __init__(self, device: torch.device | None = None) -> None:
        self.device = device
        self.wall_s: dict[str, float] = defaultdict(float)

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        self._sync()
        start = time.perf_counter()
        try:
            yield
        finally:
            self._sync()  # CUDA runs asynchronously: without a sync the clock stops too early
            self.wall_s[name] += time.perf_counter() - start

    def _sync(self) -> None:
        if self.device is not None and self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
