from collections import Counter

import pytest

from efficiency.config import DataConfig
from efficiency.data import load_dataset
from efficiency.errors import DataError
from tests.conftest import needs_shared_data

pytestmark = needs_shared_data


def test_nusax_splits_as_shipped():
    ds = load_dataset(DataConfig(dataset="nusax-senti/javanese"), seed=0)
    assert (len(ds.train), len(ds.valid), len(ds.test)) == (500, 100, 400)
    assert ds.label_names == ["negative", "neutral", "positive"]
    assert ds.default_max_length == 128


def test_masakhanews_xho_keeps_newlines_inside_quoted_fields():
    ds = load_dataset(DataConfig(dataset="masakhanews/xho"), seed=0)
    assert ds.default_max_length > 128
    assert len(ds.label_names) >= 4
    # headline and article are joined; a row must not have been split at an embedded newline
    assert all(t.strip() for t in ds.train.texts)
    assert sum("\n" in t for t in ds.train.texts) > len(ds.train) // 2


def test_mahasent_labels_are_mapped_and_subsample_is_stratified():
    ds = load_dataset(DataConfig(dataset="mahasent-mr", limit_train=300), seed=1)
    counts = Counter(ds.train.labels)
    # the file is sorted by label: the first 300 rows would all be one class
    assert len(ds.train) == 300
    assert set(counts) == {0, 1, 2}
    assert max(counts.values()) - min(counts.values()) <= 1
    assert ds.label_names == ["negative", "neutral", "positive"]


def test_subsample_is_seeded():
    a = load_dataset(DataConfig(dataset="nusax-senti/javanese", limit_train=60), seed=5)
    b = load_dataset(DataConfig(dataset="nusax-senti/javanese", limit_train=60), seed=5)
    c = load_dataset(DataConfig(dataset="nusax-senti/javanese", limit_train=60), seed=6)
    assert a.train.texts == b.train.texts
    assert a.train.texts != c.train.texts


def test_missing_dataset_offline_says_which_layout_to_provide(tmp_path, monkeypatch):
    def no_network(*_args, **_kwargs):
        raise OSError("network unreachable")

    monkeypatch.setattr("efficiency.data.download._open_url", no_network)
    with pytest.raises(DataError, match=r"train\.csv, valid\.csv, test\.csv"):
        load_dataset(DataConfig(dataset="nusax-senti/javanese", data_dir=str(tmp_path)), seed=0)


def test_limit_below_class_count_is_refused():
    with pytest.raises(DataError, match="smaller than the number of classes"):
        load_dataset(DataConfig(dataset="nusax-senti/javanese", limit_train=2), seed=0)
