"""Uploaded files in the run store: any machine runs them from its own uploads folder; the last run's delete drops them."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from efficiency import paths
from efficiency.config import DataConfig, MeasureConfig, ModelConfig, RunConfig
from efficiency.data.userfile import save_upload
from efficiency.errors import DataError
from efficiency.model_names import TFIDF
from efficiency.runs.uploads import keep_in_store, materialised


def uploaded(csv: Path) -> Path:
    """`csv` as the Experiment page keeps an upload: in this machine's uploads folder, named by its content."""
    return save_upload(io.BytesIO(csv.read_bytes()), csv.name, paths.uploads_dir())


def another_machine(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """From here on, this process is a queue server on another machine: its own, empty uploads folder."""
    folder = tmp_path / "other-machine-uploads"
    monkeypatch.setenv("EFFLAB_UPLOADS", str(folder))
    return folder


def test_an_upload_queued_here_is_run_from_another_machines_own_folder(store, sentiment_csv, monkeypatch, tmp_path):
    path = uploaded(sentiment_csv)
    keep_in_store(str(path), store)
    assert store.upload_digest(path.name) is not None
    folder = another_machine(monkeypatch, tmp_path)
    local = Path(materialised(str(path), store))
    assert local == folder / path.name and local.read_bytes() == sentiment_csv.read_bytes()
    local.write_text("text,label\ntampered,x\n")  # a stale or damaged copy is written again from the store
    assert Path(materialised(str(path), store)).read_bytes() == sentiment_csv.read_bytes()
    assert materialised("nusax-senti/javanese", store) == "nusax-senti/javanese"
    assert materialised(str(sentiment_csv), store) == str(sentiment_csv), "a file the store does not hold: as is"


def test_the_last_run_that_uses_an_upload_takes_it_out_of_the_store(store, sentiment_csv, monkeypatch, tmp_path):
    path = uploaded(sentiment_csv)
    keep_in_store(str(path), store)
    config = RunConfig(data=DataConfig(dataset=str(path))).to_dict()
    first, second = store.create_run(config), store.create_run(config)
    folder = another_machine(monkeypatch, tmp_path)  # the runs end, and are deleted, on another machine
    materialised(str(path), store)
    for run_id in (first, second):
        store.finish(run_id, "finished")
    assert store.delete(first) and store.upload_digest(path.name) is not None, "another run still uses it"
    assert store.delete(second) and store.upload_digest(path.name) is None
    assert not (folder / path.name).exists(), "this machine's copy goes too"


def test_a_file_over_50_mib_is_refused_in_words(store, tmp_path):
    big = paths.uploads_dir() / "0123456789ab-big.csv"
    with big.open("wb") as out:
        out.truncate(50 * 2**20 + 1)  # sparse: no 50 MiB written to the disk
    with pytest.raises(DataError, match=r"big\.csv is larger than 50 MiB: upload a sample of it"):
        keep_in_store(str(big), store)
    assert store.upload_digest(big.name) is None


def test_a_worker_on_another_machine_trains_on_the_stored_upload(sentiment_csv, monkeypatch, tmp_path):
    from efficiency.runs.runner import run_experiment
    from efficiency.store import RunStore

    store = RunStore()
    path = uploaded(sentiment_csv)
    keep_in_store(str(path), store)
    config = RunConfig(model=ModelConfig(name=TFIDF), data=DataConfig(dataset=str(path)),
                       measure=MeasureConfig(latency=False), seed=1)  # fmt: skip
    run_id = store.create_run(config.to_dict(), device="cpu")
    path.unlink()  # gone from the machine it was uploaded on: only the store has it
    folder = another_machine(monkeypatch, tmp_path)
    result = run_experiment(config, store=store, run_id=run_id)
    assert result.status == "finished" and store.get(run_id).metrics["accuracy"] is not None
    assert store.get(run_id).config["data"]["dataset"] == str(folder / path.name)
