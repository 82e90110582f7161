"""The teacher's cap on kept models' disk use: the longest-ended runs' models make room, or a new one is not kept."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import update

from efficiency import lab_settings, paths
from efficiency.config import DataConfig, MeasureConfig, ModelConfig, RunConfig
from efficiency.model_names import TFIDF
from efficiency.runs.disk_cap import folder_mib, make_room
from efficiency.store_schema import runs
from tests.conftest import needs_shared_data


def kept(store, mib: float, status: str = "finished", folder: Path | None = None) -> tuple[int, Path]:
    """A run of `status` whose kept model's folder holds `mib` MiB."""
    run_id = store.create_run({"name": f"kept {mib}"})
    folder = folder or paths.models_dir() / f"run-{run_id}"
    folder.mkdir(parents=True)
    (folder / "model.safetensors").write_bytes(b"\0" * int(mib * 2**20))
    with store._write() as conn:
        conn.execute(update(runs).where(runs.c.id == run_id).values(model_path=str(folder)))
    if status != "queued":
        store.claim(run_id, "cpu")
    if status not in ("queued", "running"):
        store.finish(run_id, status, metrics={"accuracy": 0.5})
    return run_id, folder


def cap(store, mib: float | None) -> None:
    lab_settings.save(lab_settings.LabSettings(models_cap_gib=None if mib is None else mib / 1024), store)


def test_the_models_of_the_runs_that_ended_longest_ago_make_room_and_say_so(store, tmp_path):
    oldest, oldest_folder = kept(store, 0.6)
    newer, newer_folder = kept(store, 0.3, status="stopped")
    running, running_folder = kept(store, 0.3, status="running")
    outside, outside_folder = kept(store, 0.2, folder=tmp_path / "elsewhere")  # never the cap's to remove
    cap(store, 1.0)
    assert make_room(store, needed_mib=0.3) is None
    assert not oldest_folder.exists() and newer_folder.exists() and running_folder.exists()
    assert outside_folder.exists() and store.get(outside).model_path == str(outside_folder)
    record = store.get(oldest)
    assert record.model_path is None and record.metrics["accuracy"] == 0.5
    assert "removed" in record.metrics["save_error"] and "1 MiB" in record.metrics["save_error"]
    assert store.get(newer).model_path == str(newer_folder) and store.get(running).model_path


def test_a_model_that_cannot_fit_is_refused_in_words_and_a_running_runs_model_stays(store):
    running, running_folder = kept(store, 0.5, status="running")
    cap(store, 0.6)
    refused = make_room(store, needed_mib=0.3)
    assert refused and "not kept" in refused and "raise the cap" in refused
    assert running_folder.exists() and store.get(running).model_path == str(running_folder)


def test_without_a_cap_nothing_is_removed(store):
    _, folder = kept(store, 0.5)
    cap(store, None)
    assert make_room(store, needed_mib=10_000) is None and folder.exists()
    assert folder_mib(paths.models_dir()) == 0.5


@needs_shared_data
def test_a_run_past_the_cap_keeps_its_figures_and_says_why_its_model_was_not_kept():
    from efficiency.runs.runner import run_experiment
    from efficiency.store import RunStore

    store = RunStore(f"sqlite:///{paths.app_data_dir() / 'class.sqlite'}")  # a shared store: settings in it
    _, running_folder = kept(store, 0.5, status="running")
    cap(store, 0.5)
    data = DataConfig(dataset="nusax-senti/javanese", limit_train=120)
    config = RunConfig(model=ModelConfig(name=TFIDF), data=data, measure=MeasureConfig(latency=False), seed=3)
    config.save_model = True
    result = run_experiment(config, store=store)
    record = store.get(result.run_id)
    assert record.status == "finished" and record.metrics["accuracy"] > 0
    assert record.model_path is None and "not kept" in record.metrics["save_error"]
    assert running_folder.exists()
