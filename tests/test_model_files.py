"""A model's token limit and presence, read from its files without loading it."""

from __future__ import annotations

import json

import pytest

from efficiency import model_files
from efficiency.config import RunConfig
from efficiency.errors import ConfigError
from efficiency.model_names import MINILM, TFIDF, TINY
from efficiency.runs.checks import checked_device


def a_model_folder(tmp_path, **config) -> str:
    (tmp_path / "config.json").write_text(json.dumps(config))
    return str(tmp_path)


def test_position_limits_of_the_built_in_models_and_a_folder(tmp_path):
    assert model_files.position_limit(MINILM) == 512  # its config.json, shipped in the wheel
    assert model_files.position_limit(TINY) == 512
    assert model_files.position_limit(TFIDF) is None
    roberta = a_model_folder(tmp_path, model_type="xlm-roberta", max_position_embeddings=514)
    assert model_files.position_limit(roberta) == 512, "RoBERTa's two offset rows are never used"
    assert model_files.position_limit("nobody/not-in-the-cache") is None


def test_a_max_length_above_the_models_own_limit_is_refused_naming_it():
    config = RunConfig()
    config.data.max_length = 1000
    with pytest.raises(ConfigError, match=r"max_length is 1000, but minilm reads at most 512 tokens"):
        checked_device(config)
    config.data.max_length = 512
    checked_device(config)


def test_only_models_on_disk_calibrate_by_themselves(tmp_path, monkeypatch):
    from efficiency.runs.calibrations import auto_calibrate

    monkeypatch.setenv("EFFLAB_AUTO_CALIBRATE", "1")
    assert model_files.on_disk(MINILM) and model_files.on_disk(TINY)
    assert model_files.on_disk(a_model_folder(tmp_path, model_type="bert"))
    assert auto_calibrate(MINILM)
    assert not auto_calibrate("nobody/not-in-any-cache"), "a Hub id not in the cache waits for the button"


def test_a_malformed_model_name_is_refused_before_anything_loads():
    config = RunConfig()
    config.model.name = "no such model!"
    with pytest.raises(ConfigError, match="is not a folder on this machine, nor a Hub id"):
        checked_device(config)
