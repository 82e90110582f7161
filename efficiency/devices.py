"""Which device a run takes, resolved without starting CUDA.

The app's server resolves devices too (the queue orders runs by device), and a CUDA context it
created would hold memory the runs need: `torch.cuda.is_available()` and `device_count()` ask the
driver without creating one, `current_device()` would create one, so a bare 'cuda' means index 0.
"""

from __future__ import annotations

import torch

from efficiency.errors import ConfigError
from efficiency.model_names import TFIDF


def resolve_device(name: str) -> torch.device:
    """'auto' picks cuda, then mps, then cpu; an explicit device that is absent is refused by name."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", 0)  # indexed: one lock per physical GPU
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    device = torch.device(name)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError(f"device '{name}' was asked for, but this machine has no CUDA GPU: use auto or cpu.")
        if (device.index or 0) >= torch.cuda.device_count():
            raise ConfigError(f"device '{name}' does not exist: this machine has {torch.cuda.device_count()} GPU(s).")
        return torch.device("cuda", device.index or 0)
    if device.type == "mps" and not _mps_available():
        raise ConfigError("device 'mps' was asked for, but Apple's Metal backend is not available: use auto or cpu.")
    return device


def run_device(model_name: str, device_name: str) -> torch.device:
    """The device a run of this model takes: the TF-IDF baseline always the CPU (it must not hold a GPU)."""
    return torch.device("cpu") if model_name == TFIDF else resolve_device(device_name)


def _mps_available() -> bool:
    return bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())
