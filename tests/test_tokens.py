"""The tokenizer lens on sentences whose counts are known by hand, and the tokens command."""

from __future__ import annotations

import json

import pytest

from efficiency.cli import main
from efficiency.preview import load_tokenizer
from efficiency.tokens import count, dataset_names
from tests.conftest import needs_shared_data

MARATHI = "मला हा चित्रपट खूप आवडला"  # "I liked this film very much": 20 characters, 5 words


@pytest.fixture(scope="module")
def minilm_tokenizer():
    return load_tokenizer("minilm")[0]


def test_english_is_read_whole_and_marathi_loses_its_vowel_signs(minilm_tokenizer):
    english = count(minilm_tokenizer, ["the film was good"], "text")
    assert (english.words, english.pieces, english.chars_lost) == (4, 4, 0)
    assert english.fertility == 1.0
    marathi = count(minilm_tokenizer, [MARATHI], "text")
    assert (marathi.words, marathi.chars) == (5, 20)
    assert marathi.chars_lost == 2  # the virama of चित्रपट and the vowel sign of खूप: uncased BERT strips them
    assert marathi.fertility == pytest.approx(18 / 5)  # one piece per remaining character
    assert marathi.chars_per_piece == pytest.approx(1.0)


def test_dataset_names_expand_a_family():
    assert len(dataset_names("nusax-senti")) == 12
    assert dataset_names("nusax-senti/javanese") == ["nusax-senti/javanese"]
    assert "mahasent-mr" in dataset_names(None)


@needs_shared_data
def test_the_tokens_command(capsys):
    assert main(["tokens", "--text", MARATHI, "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["rows"][0]["chars_lost"] == 2 and payload["pieces"][0] == "म"
    assert main(["tokens", "--dataset", "mahasent-mr", "--sample", "50", "--json"]) == 0
    row = json.loads(capsys.readouterr().out)["rows"][0]
    assert row["source"] == "mahasent-mr" and row["texts"] == 50
    assert row["lost_share"] > 0.05 and row["unknown_share"] > 0  # measured: about 17% lost, 3% unknown
