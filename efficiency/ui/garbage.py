"""A full garbage collection once a minute in the background, instead of after every rerun.

Streamlit collects after each script run (`runner.postScriptGC`), which is off in `.streamlit/config.toml`:
with torch, transformers and pandas loaded a full collection walks about half a million objects (0.3 s on an
idle core, over 1 s on a busy 2-core machine), and ten students' reruns paid it many times a second. Without
any full collection, cycles freed by reruns wait for Python's own thresholds and the server's memory crept up
(README, "The class under load"). So one daemon thread collects once a minute: about 1% of a core.
"""

from __future__ import annotations

import gc
import threading

COLLECT_EVERY_S = 60.0

_started = threading.Event()
_stop = threading.Event()  # set only by tests: on a server the thread ends with the process
_lock = threading.Lock()


def collect_garbage_periodically(every_s: float = COLLECT_EVERY_S) -> bool:
    """Start the collecting thread once per server process; True when this call started it."""
    with _lock:
        if _started.is_set():
            return False
        _started.set()
    threading.Thread(target=_collect_until_stopped, args=(every_s, _stop), name="efflab-gc", daemon=True).start()
    return True


def _collect_until_stopped(every_s: float, stop: threading.Event) -> None:
    while not stop.wait(every_s):
        gc.collect()
