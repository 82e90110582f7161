"""One run per device at a time, across processes: a file lock per device.

Two runs sharing two CPU cores (or one GPU) spoil each other's timings and energy, so a run
waits for its device's slot, whether it was started from the CLI or the app. The lock is an
OS file lock: it is released when its holder exits, even when killed.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from efficiency import paths

POLL_S = 0.5


def physical(device: str) -> str:
    """The GPU as the machine numbers it: under $CUDA_VISIBLE_DEVICES (Ray sets it per job), cuda:0 is its first entry.

    Two Ray jobs on one machine each see their own GPU as cuda:0; their locks must still differ.
    """
    visible = [entry.strip() for entry in os.environ.get("CUDA_VISIBLE_DEVICES", "").split(",") if entry.strip()]
    if not device.startswith("cuda") or not visible:
        return device
    index = int(device.partition(":")[2] or 0)
    return f"cuda:{visible[index]}" if index < len(visible) else device


def lock_path(device: str) -> Path:
    folder = paths.app_data_dir() / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"device-{physical(device).replace(':', '-')}.lock"


def holder(device: str) -> str:
    """Who holds the device now (as written by the holder), or '' when free."""
    try:
        return lock_path(device).read_text(encoding="utf-8").strip()
    except OSError:
        return ""


def is_free(device: str) -> bool:
    """Whether nobody holds the device's slot now (a probe: takes the lock and releases it at once)."""
    with open(lock_path(device), "a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(handle, fcntl.LOCK_UN)
        return True


@contextmanager
def device_slot(
    device: str,
    label: str,
    on_wait: Callable[[str], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> Iterator[bool]:
    """Hold the device's slot for the block; yields False if a stop came while waiting."""
    path = lock_path(device)
    handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - the lock lives as long as this handle
    acquired = False
    try:
        told = False
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                acquired = True
                break
            except BlockingIOError:
                if should_stop is not None and should_stop():
                    yield False
                    return
                if on_wait is not None and not told:
                    on_wait(holder(device) or "another run")
                    told = True
                time.sleep(POLL_S)
        handle.seek(0)
        handle.truncate()
        handle.write(f"{label} (pid {os.getpid()})")
        handle.flush()
        yield True
    finally:
        try:
            if acquired:
                handle.seek(0)
                handle.truncate()
        finally:
            handle.close()  # closing releases the lock
