"""Kept models: plain data that rebuilds the same model, read only from inside the models folder, never unpickled."""

from __future__ import annotations

import json

import pytest
import torch

from efficiency import paths
from efficiency.config import ModelConfig, RunConfig, TechniqueSpec
from efficiency.errors import ModelLoadError
from efficiency.inference import KeptModel, kept_model_problem
from efficiency.models import TINY, load_classifier
from efficiency.runs.keep import MANIFEST, OLDER_FORMAT, WEIGHTS, kept_folder, load_model, save_model
from efficiency.techniques import build
from efficiency.techniques.base import TechniqueContext
from tests.conftest import pickle_payload

SENTENCES = ["apik banget", "ora enak babar pisan, aku kuciwa", "biasa wae"]


def kept_tiny(specs: list[TechniqueSpec], name: str = "run-1") -> tuple[torch.nn.Module, object, object]:
    """A tiny model shaped by `specs` (as a run shapes it, untrained), kept in the models folder."""
    run = RunConfig(model=ModelConfig(name=TINY), techniques=specs)
    loaded = load_classifier(TINY, ["negative", "neutral", "positive"], seed=3)
    techniques = build(run)
    context = TechniqueContext(run=run, device=torch.device("cpu"))
    model = techniques.after_training(techniques.transform_model(loaded.model, context), context).eval()
    folder = paths.models_dir() / name
    save_model(model, loaded.tokenizer, folder, run, techniques)
    return model, loaded.tokenizer, folder


def logits(model: torch.nn.Module, tokenizer) -> torch.Tensor:
    with torch.inference_mode():
        return model(**tokenizer(SENTENCES, padding=True, return_tensors="pt")).logits


@pytest.mark.parametrize(
    "specs",
    [
        [TechniqueSpec("quant")],
        [TechniqueSpec("prune", {"method": "heads", "sparsity": 0.5})],
        [TechniqueSpec("prune", {"method": "heads", "sparsity": 0.5}), TechniqueSpec("quant")],
        [TechniqueSpec("lora", {"merge": False})],
    ],
    ids=["int8", "heads-pruned", "heads-pruned-int8", "lora-unmerged"],
)
def test_a_reshaped_model_round_trips_with_the_same_predictions(specs):
    model, tokenizer, folder = kept_tiny(specs)
    assert not list(folder.glob("*.pt")) and not list(folder.glob("*.bin")) and not list(folder.glob("*.pkl"))
    rebuilt, rebuilt_tokenizer = load_model(kept_folder(folder))
    assert torch.equal(logits(model, tokenizer), logits(rebuilt, rebuilt_tokenizer))
    kept = KeptModel(str(folder)).predict(SENTENCES)
    probabilities = torch.softmax(logits(model, tokenizer), dim=-1)
    assert [p.label for p in kept] == [["negative", "neutral", "positive"][i] for i in probabilities.argmax(-1)]


def test_int8_weights_come_back_as_the_same_integers():
    model, _tokenizer, folder = kept_tiny([TechniqueSpec("quant")])
    rebuilt, _ = load_model(folder)
    query = "bert.encoder.layer.0.attention.self.query"
    before, after = model.get_submodule(query).weight(), rebuilt.get_submodule(query).weight()
    assert type(rebuilt.get_submodule(query)).__name__ == "Linear" and after.is_quantized
    assert torch.equal(before.int_repr(), after.int_repr()) and before.q_scale() == after.q_scale()


def test_head_counts_per_layer_are_kept():
    model, _tokenizer, folder = kept_tiny([TechniqueSpec("prune", {"method": "heads", "sparsity": 0.5})])
    manifest = json.loads((folder / MANIFEST).read_text())
    assert manifest["shape"]["attention_heads"] == [
        layer.attention.self.num_attention_heads for layer in model.bert.encoder.layer
    ]
    assert sum(manifest["shape"]["attention_heads"]) == 2  # 4 heads, half removed, at least one per layer


def test_weights_that_do_not_fit_are_refused_not_ignored():
    _model, _tokenizer, folder = kept_tiny([])
    from safetensors.torch import load_file, save_file

    state = load_file(folder / WEIGHTS)
    state.pop("classifier.bias")
    save_file(state, folder / WEIGHTS)
    with pytest.raises(ModelLoadError, match="do not fit"):
        load_model(folder)


@pytest.mark.parametrize("file_name", ["model.pt", "pipeline.pkl"])
def test_a_pickle_in_a_run_folder_is_never_loaded(tmp_path, file_name):
    marker = tmp_path / "ran"
    folder = paths.models_dir() / "run-7"
    folder.mkdir()
    (folder / file_name).write_bytes(pickle_payload(marker))
    (folder / "labels.json").write_text('["a", "b"]')
    with pytest.raises(ModelLoadError) as raised:
        KeptModel(str(folder))
    assert str(raised.value) == OLDER_FORMAT and "older format" in OLDER_FORMAT
    assert kept_model_problem(str(folder)) == OLDER_FORMAT  # what the result card shows instead of the box
    assert not marker.exists()


def test_a_folder_outside_the_models_folder_is_refused(tmp_path):
    _model, _tokenizer, folder = kept_tiny([])
    elsewhere = tmp_path / "elsewhere"
    folder.rename(elsewhere)  # a complete, valid kept model: refused for where it is, not for what it is
    with pytest.raises(ModelLoadError, match="outside the lab's models folder"):
        KeptModel(str(elsewhere))
    with pytest.raises(ModelLoadError, match="outside the lab's models folder"):
        KeptModel(str(paths.models_dir() / ".." / "elsewhere"))


def test_links_out_of_the_models_folder_are_refused(tmp_path):
    _model, _tokenizer, folder = kept_tiny([])
    outside = tmp_path / "outside"
    folder.rename(outside)
    (paths.models_dir() / "run-2").symlink_to(outside, target_is_directory=True)
    with pytest.raises(ModelLoadError, match="outside the lab's models folder"):
        KeptModel(str(paths.models_dir() / "run-2"))
    _model, _tokenizer, folder = kept_tiny([], name="run-3")
    (folder / WEIGHTS).unlink()
    (folder / WEIGHTS).symlink_to(outside / WEIGHTS)
    with pytest.raises(ModelLoadError, match="links to a file outside"):
        KeptModel(str(folder))
