"""Calibrations started from the app: one background process per model and device, found again by a marker.

A calibration measures the device once (`python -m efficiency calibrate`) and waits for it like a run;
the marker file beside the app data holds its pid and start time, so a page can tell whether it is
still measuring without a clock.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from efficiency import estimate, paths, processes

MARKER_GLOB = "calibrating-*.pid"


def auto_calibrate(model: str) -> bool:
    """Whether a page measures the device for `model` by itself, or asks with a button.

    Only a model already on disk: any Hub id typed in the model box would otherwise download the whole
    model before Train is pressed. $EFFLAB_AUTO_CALIBRATE=0 asks for every model (tests).
    """
    from efficiency.model_files import on_disk

    return os.environ.get("EFFLAB_AUTO_CALIBRATE", "1") != "0" and on_disk(model)


def start_calibration(model: str, device: str) -> None:
    """Measure the device once in a background process (it waits for the device like a run)."""
    if calibrating(model, device):
        return
    estimate.forget_failure(model, device)
    marker = _marker(model, device)
    pid = processes.launch_module(
        "efficiency", ["calibrate", "--model", model, "--device", device], marker.with_suffix(".log")
    )
    marker.write_text(f"{pid} {processes.started_at(pid)}", encoding="utf-8")


def calibrating(model: str, device: str) -> bool:
    """A calibration process for this model and device is alive (checked by pid and start time)."""
    return _marker_alive(_marker(model, device))


def active_calibrations() -> list[str]:
    """'minilm on cpu' for each calibration process alive now (it holds its device for a few seconds)."""
    alive = []
    for marker in sorted(paths.app_data_dir().glob(MARKER_GLOB)):
        if _marker_alive(marker):
            model, _, device = marker.stem.removeprefix("calibrating-").rpartition("-")
            alive.append(f"{model} on {device}")
    return alive


def _marker_alive(marker: Path) -> bool:
    try:
        pid, _, since = marker.read_text(encoding="utf-8").partition(" ")
        return processes.alive(int(pid), float(since) if since else None)
    except (OSError, ValueError):
        return False


def _marker(model: str, device: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", f"{model}-{device}")[-120:]
    return paths.app_data_dir() / f"calibrating-{safe}.pid"
