"""Peak memory: the process's resident set, sampled, and on CUDA the allocator's own peak."""

from __future__ import annotations

import threading

import psutil
import torch

RSS_METHOD = (
    "process RSS (psutil), sampled every {interval_s} s: the whole process, Python, libraries and data included "
    "(peak_memory_delta_mb: the rise during training and evaluation, the loaded model excluded)"
)
CUDA_METHOD = "torch.cuda.max_memory_allocated (the caching allocator's peak of live tensors)"


class PeakMemory:
    """Samples this process's RSS in a thread; use as a context manager around the work."""

    def __init__(self, device: torch.device | None = None, interval_s: float = 0.1) -> None:
        self.device = device
        self.interval_s = interval_s
        self.peak_rss_bytes = 0
        self.start_rss_bytes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="peak-rss", daemon=True)
        self._process = psutil.Process()

    def __enter__(self) -> PeakMemory:
        self.start_rss_bytes = self._process.memory_info().rss
        if self._is_cuda:
            torch.cuda.reset_peak_memory_stats(self.device)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._take()

    def restart(self) -> None:
        """Forget the peaks so far (a batch-size sweep's, say): from here on the work's own peak counts.

        The RSS peak starts again from the resident set now, which memory freed by the earlier work but kept
        by the allocator may still hold; the CUDA peak starts from the live tensors now.
        """
        self.peak_rss_bytes = self._process.memory_info().rss
        if self._is_cuda:
            torch.cuda.reset_peak_memory_stats(self.device)

    def _sample(self) -> None:
        while not self._stop.wait(self.interval_s):
            self._take()

    def _take(self) -> None:
        self.peak_rss_bytes = max(self.peak_rss_bytes, self._process.memory_info().rss)

    @property
    def _is_cuda(self) -> bool:
        return self.device is not None and self.device.type == "cuda"

    @property
    def peak_rss_mb(self) -> float:
        return self.peak_rss_bytes / 2**20

    @property
    def delta_rss_mb(self) -> float:
        """The rise of RSS during the run: comparable between runs made one after another in one process."""
        return max(0, self.peak_rss_bytes - self.start_rss_bytes) / 2**20

    @property
    def cuda_peak_mb(self) -> float | None:
        return torch.cuda.max_memory_allocated(self.device) / 2**20 if self._is_cuda else None
