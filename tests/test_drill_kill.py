"""The kill drill, 5 kills on SQLite and on PostgreSQL: no finished run lost or changed, every victim interrupted, the database intact."""

from __future__ import annotations

import importlib.util

import pytest

from efficiency import paths
from tests.conftest import needs_shared_data

pytestmark = [needs_shared_data, pytest.mark.e2e]


def test_five_kills_lose_nothing(store_url, monkeypatch):
    spec = importlib.util.spec_from_file_location("drill_kill", paths.REPO_ROOT / "benchmarks" / "drill_kill.py")
    drill_kill = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(drill_kill)
    monkeypatch.setenv("EFFLAB_STORE", store_url)
    result = drill_kill.main(["--kills", "5", "--reference-runs", "0", "--seed", "1", "--store-from-env"])
    assert result["kills"] == 5 and result["finished_runs_checked"] >= 3
    assert result["finished_runs_lost_or_changed"] == 0
    assert result["victims_not_interrupted_within_30s"] == 0
    assert result["integrity_check"] == "ok"
