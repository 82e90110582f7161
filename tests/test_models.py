import pytest
import torch

from efficiency.errors import ModelLoadError
from efficiency.models import TFIDF, load_classifier, minilm_path


def test_tiny_model_has_a_head_sized_from_the_labels():
    loaded = load_classifier("tiny", ["a", "b", "c", "d"], seed=0)
    assert loaded.model.config.num_hidden_layers == 2
    assert loaded.model.classifier.out_features == 4
    assert loaded.model.config.id2label[3] == "d"
    out = loaded.model(**loaded.tokenizer(["hello world"], return_tensors="pt"))
    assert out.logits.shape == (1, 4)


def test_tiny_initialisation_is_seeded():
    a = load_classifier("tiny", ["x", "y"], seed=1).model
    b = load_classifier("tiny", ["x", "y"], seed=1).model
    assert torch.equal(a.classifier.weight, b.classifier.weight)


def test_minilm_loads_offline_from_the_package():
    assert (minilm_path() / "model.safetensors").is_file()
    loaded = load_classifier("minilm", ["neg", "pos"], seed=0)
    assert loaded.model.config.num_hidden_layers == 6
    assert loaded.model.classifier.out_features == 2
    assert "package" in loaded.source


def test_unknown_hub_model_offline_gets_a_clear_message():
    with pytest.raises(ModelLoadError, match="offline, use --model minilm"):
        load_classifier("no-such-org/no-such-model", ["a", "b"])


def test_tfidf_is_not_loaded_as_a_transformer():
    with pytest.raises(ModelLoadError, match="scikit-learn"):
        load_classifier(TFIDF, ["a", "b"])
