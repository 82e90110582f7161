"""The server collects garbage in one background thread, once a minute, started once however many reruns ask."""

from __future__ import annotations

import gc
import threading
import weakref

from efficiency.ui import garbage


def test_one_collector_thread_per_server_frees_cycles_a_rerun_left(monkeypatch):
    stop = threading.Event()
    monkeypatch.setattr(garbage, "_started", threading.Event())
    monkeypatch.setattr(garbage, "_stop", stop)
    gc.disable()  # only the collector may free the cycle below
    try:

        class Node:
            pass

        node = Node()
        node.me = node  # a cycle: reference counting alone never frees it
        gone = weakref.ref(node)
        del node
        assert gone() is not None
        assert garbage.collect_garbage_periodically(every_s=0.05) is True
        assert garbage.collect_garbage_periodically(every_s=0.05) is False  # the next rerun starts no second one
        for _ in range(200):
            if gone() is None:
                break
            threading.Event().wait(0.05)
        assert gone() is None
        assert any(t.name == "efflab-gc" for t in threading.enumerate())
    finally:
        stop.set()  # no collector left running through the rest of the tests
        gc.enable()
