"""What the run ran on: libraries, device, CPU and GPU models. Stored with every run."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import socket

import torch

LIBRARIES = ("torch", "transformers", "peft", "codecarbon", "scikit-learn", "numpy", "streamlit")


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def versions_of(names: tuple[str, ...]) -> dict[str, str | None]:
    """Each installed distribution's version; None for one that is not installed."""
    versions: dict[str, str | None] = {}
    for name in names:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def describe(device: torch.device) -> dict[str, object]:
    versions = versions_of(LIBRARIES)
    env: dict[str, object] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "host": socket.gethostname(),
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "device": str(device),
        "libraries": versions,
    }
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        env["gpu_model"] = props.name
        env["gpu_memory_gb"] = round(props.total_memory / 1e9, 1)
        env["cuda"] = torch.version.cuda
    return env
