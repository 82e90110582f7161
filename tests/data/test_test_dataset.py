"""--test-dataset: train on one dataset, test on another's test split, labels matched by name."""

from __future__ import annotations

import pytest

from efficiency.config import DataConfig
from efficiency.data import load_dataset, relabelled
from efficiency.data.splits import TextSplit
from efficiency.errors import DataError
from efficiency.flags import config_from_flags
from tests.conftest import needs_shared_data


def test_labels_are_matched_by_name_not_by_position():
    split = TextSplit(["a", "b", "c"], [0, 1, 2])
    moved = relabelled(split, ["negative", "neutral", "positive"], ["positive", "negative", "neutral"], "x", "y")
    assert moved.labels == [1, 2, 0] and moved.texts == ["a", "b", "c"]


def test_different_label_names_are_refused_with_both_sets():
    with pytest.raises(DataError, match="has the labels a, b, but y has negative, positive: test on a dataset"):
        relabelled(TextSplit(["t"], [0]), ["a", "b"], ["negative", "positive"], "x", "y")


@needs_shared_data
def test_train_on_indonesian_test_on_javanese():
    config = config_from_flags("--dataset nusax-senti/indonesian --test-dataset nusax-senti/javanese")
    crossed = load_dataset(config.data, seed=1, allow_download=False)
    javanese = load_dataset(DataConfig(dataset="nusax-senti/javanese"), seed=1, allow_download=False)
    indonesian = load_dataset(DataConfig(dataset="nusax-senti/indonesian"), seed=1, allow_download=False)
    assert crossed.train.texts == indonesian.train.texts
    assert crossed.test.texts == javanese.test.texts and crossed.test.labels == javanese.test.labels
    assert crossed.info["test_dataset"] == "nusax-senti/javanese"


@needs_shared_data
def test_a_test_set_with_other_labels_is_refused():
    config = DataConfig(dataset="nusax-senti/javanese", test_dataset="masakhanews/yor")
    with pytest.raises(DataError, match="--test-dataset masakhanews/yor has the labels"):
        load_dataset(config, seed=1, allow_download=False)
