"""The class under load, short: 2 students in Chromium for a quarter of a minute per store, counts only (no timings).

On SQLite in `make test`; on the session's throwaway PostgreSQL with `make test-slow` (about a minute each).
"""

from __future__ import annotations

import functools
import importlib.util
import sys
from pathlib import Path

import pytest

from efficiency import paths
from tests.conftest import needs_shared_data

CHROMIUM = "/usr/bin/chromium"
KEYS = {"sessions", "minutes", "actions", "errors", "dropped_connections", "p50_action_s", "p95_action_s",
        "server_rss_mb_start", "server_rss_mb_end", "server_rss_mb_by_minute", "runs_queued", "runs_finished", "runs_lost",
        "server_cpu_s", "database_cpu_s", "browsers_cpu_s"}  # fmt: skip


@functools.cache
def bench_class():
    spec = importlib.util.spec_from_file_location("bench_class", paths.REPO_ROOT / "benchmarks" / "bench_class.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_a_redacted_exception_is_named_from_the_server_s_log(tmp_path: Path):
    log = tmp_path / "server.log"
    log.write_text(
        "  You can now view your Streamlit app\n"
        "Traceback (most recent call last):\n  File \"x.py\", line 1, in <module>\n    boom()\n"
        "KeyError: 'model'\n\nDuring handling of the above exception, another exception occurred:\n\n"
        "Traceback (most recent call last):\n  File \"y.py\", line 2\nRuntimeError: store busy\nall well again\n"
        "Traceback (most recent call last):\n  File \"z.py\", line 3\n"
        "starlette.websockets.WebSocketDisconnected: WebSocket is not connected.\n",  # a page that was left
        encoding="utf-8",
    )  # fmt: skip
    assert bench_class().server_exceptions(log) == ["KeyError: 'model'", "RuntimeError: store busy"]
    assert bench_class().server_exceptions(tmp_path / "absent.log") == []


@needs_shared_data
@pytest.mark.browser
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed (make test installs it)")
@pytest.mark.timeout(400)
@pytest.mark.parametrize(  # about a minute each here: PostgreSQL's turn runs with `make test-slow`
    "store_url", ["sqlite", pytest.param("postgresql", marks=[pytest.mark.postgres, pytest.mark.slow])], indirect=True
)
def test_two_students_for_a_quarter_minute_lose_nothing_and_see_no_error(store_url: str):
    bench = bench_class()
    args = bench.parse(["--sessions", "2", "--minutes", "0.25", "--drain-s", "0"])
    result = bench.one_class("sqlite" if store_url.startswith("sqlite") else "postgresql", args, url=store_url)
    assert set(result) >= KEYS, KEYS - set(result)
    assert result["sessions"] == 2
    assert result["actions"] > 0
    assert result["errors"] == 0, result["error_samples"]
    assert result["server_exceptions"] == 0, result["server_exception_samples"]
    assert result["runs_queued"] >= 1  # each student queued a tiny run in the warm-up
    assert result["runs_lost"] == 0, result["lost_samples"]
    assert result["server_rss_mb_start"] > 0 and result["server_rss_mb_end"] > 0
    assert result["server_rss_mb_by_minute"][0] == result["server_rss_mb_start"]
