"""Shared fixtures: an isolated app-data folder per test, tiny configs and small user files."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from efficiency import paths
from efficiency.config import DataConfig, MeasureConfig, ModelConfig, RunConfig, TrainConfig
from efficiency.store import RunStore
from tests import postgres

SHARED_DATA = paths.REPO_ROOT.parent / "shared" / "data"

needs_shared_data = pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="../shared/data is not beside the repository")


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test gets its own run store, locks, cache and kept models; the real user folders stay untouched."""
    home = tmp_path_factory.mktemp("efflab-home")
    monkeypatch.setenv("EFFLAB_HOME", str(home))
    monkeypatch.setenv("EFFLAB_CACHE", str(home / "cache"))
    monkeypatch.delenv("EFFLAB_STORE", raising=False)
    monkeypatch.delenv("EFFLAB_COUNTRY", raising=False)
    monkeypatch.delenv("EFFLAB_DATA_DIR", raising=False)
    monkeypatch.delenv("EFFLAB_MODELS", raising=False)
    monkeypatch.delenv("EFFLAB_UPLOADS", raising=False)
    monkeypatch.setenv("EFFLAB_AUTO_CALIBRATE", "0")  # pages must not start background calibrations in tests
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # the Hub is unreachable here: fail fast, as a user offline would
    return home


def tiny_config(**train: object) -> RunConfig:
    """A tiny random BERT on NusaX-senti javanese with 120 training examples: a few seconds on a CPU."""
    train_cfg = TrainConfig(**{"epochs": 2, "batch_size": 16, **train})  # type: ignore[arg-type]
    return RunConfig(
        name="tiny test",
        model=ModelConfig(name="tiny"),
        data=DataConfig(dataset="nusax-senti/javanese", limit_train=120),
        train=train_cfg,
        measure=MeasureConfig(latency_repeats=2),
        seed=7,
        device="cpu",
    )


@pytest.fixture
def sentiment_csv(tmp_path: Path) -> Path:
    """A small, valid user file: 3 classes x 12 rows."""
    rows = ["text,label"]
    words = {"pos": "good great lovely", "neg": "bad awful sad", "neu": "table chair door"}
    for label, vocab in words.items():
        for i in range(12):
            rows.append(f'"{vocab} example {i}",{label}')
    path = tmp_path / "mine.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def python_env() -> dict[str, str]:
    """The environment for a child process: the same isolated home and offline Hub."""
    return dict(os.environ)


class _Payload:
    """Unpickling this creates the file `marker`: what a hostile student would plant as a kept model."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (open, (self.marker, "w"))


def pickle_payload(marker: Path) -> bytes:
    """A pickle that, if ever loaded, leaves `marker` behind (tests assert it never appears)."""
    import pickle

    return pickle.dumps(_Payload(marker))


# --- the run store on both backends ---------------------------------------------------------------
@pytest.fixture(scope="session")
def postgres_server() -> Iterator[postgres.Server]:
    """One throwaway PostgreSQL server for the session, stopped at its end even when tests fail."""
    try:
        server = postgres.start()
    except postgres.Unavailable as exc:
        if os.environ.get("CI"):  # on CI the PostgreSQL tests must run, never skip quietly
            pytest.fail(str(exc))
        pytest.skip(str(exc))
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty run store's URL: a SQLite file, then a schema of the session's PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'runs.sqlite'}"
    return request.getfixturevalue("postgres_server").fresh_store_url()


@pytest.fixture
def store(store_url: str) -> Iterator[RunStore]:
    """The run store on SQLite and on PostgreSQL (the store, queue, scheduler and kill-drill tests use it)."""
    opened = RunStore(store_url)
    yield opened
    opened.engine.dispose()  # a PostgreSQL connection per test would pile up on the session's server
