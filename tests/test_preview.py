"""The dataset preview: sizes, class balance, token lengths and truncation, as a run would read them."""

from __future__ import annotations

import pytest

from efficiency.config import DataConfig
from efficiency.errors import DataError
from efficiency.preview import preview_dataset
from tests.conftest import needs_shared_data


@needs_shared_data
def test_nusax_preview_counts_what_the_model_will_read():
    preview = preview_dataset(DataConfig(dataset="nusax-senti/javanese", max_length=32), "tiny")
    assert preview.sizes == {"train": 500, "valid": 100, "test": 400}
    assert list(preview.class_counts.index) == ["negative", "neutral", "positive"]
    assert preview.class_counts["train"].sum() == 500
    assert len(preview.train_lengths) == 500 and min(preview.train_lengths) >= 3  # [CLS] + a word + [SEP]
    cut = sum(n > 32 for n in preview.train_lengths)
    assert preview.truncated_share == pytest.approx(cut / 500)
    assert cut > 0
    assert preview.tokens.train == sum(min(n, 32) for n in preview.train_lengths)
    assert len(preview.samples) == 8


@needs_shared_data
def test_limit_train_previews_the_subsample():
    preview = preview_dataset(DataConfig(dataset="nusax-senti/javanese", limit_train=90), "minilm")
    assert preview.sizes["train"] == 90 and preview.max_length == 128


def test_a_bad_file_says_what_is_wrong(tmp_path):
    path = tmp_path / "one-class.csv"
    path.write_text("text,label\n" + "".join(f"t{i},a\n" for i in range(20)), encoding="utf-8")
    with pytest.raises(DataError):
        preview_dataset(DataConfig(dataset=str(path)), "tiny")


def test_a_users_file(sentiment_csv):
    preview = preview_dataset(DataConfig(dataset=str(sentiment_csv)), "tfidf-logreg")
    assert sum(preview.sizes.values()) == 36
    assert "MiniLM" in preview.tokenizer_note
