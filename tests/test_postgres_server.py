"""The tests' throwaway PostgreSQL: missing programs are a reason to skip, never a crash; stopping leaves nothing."""

from __future__ import annotations

import pytest

from tests import postgres


def test_missing_server_programs_are_said_plainly(monkeypatch):
    monkeypatch.setattr(postgres.glob, "glob", lambda _pattern: [])
    monkeypatch.setattr(postgres.shutil, "which", lambda _name: None)
    with pytest.raises(postgres.Unavailable, match="make test"):
        postgres.start()


@pytest.mark.postgres
def test_the_server_listens_on_localhost_and_stopping_removes_it(postgres_server):
    url = postgres_server.fresh_store_url()
    assert url.startswith(f"postgresql+psycopg://efflab@127.0.0.1:{postgres_server.port}/")
    assert postgres_server.watchdog is not None and postgres_server.watchdog.poll() is None
    assert (postgres_server.folder / "data" / "postmaster.pid").exists()
