"""Trying sentences on a kept model: every reshaping technique, adapters, the TF-IDF baseline, a missing folder."""

from __future__ import annotations

import pytest

from efficiency import paths
from efficiency.config import ModelConfig, TechniqueSpec
from efficiency.errors import ModelLoadError
from efficiency.inference import KeptModel
from efficiency.runs.runner import run_experiment
from efficiency.store import RunStore
from tests.conftest import needs_shared_data, tiny_config

pytestmark = needs_shared_data


def kept(config):
    config.save_model = True
    result = run_experiment(config, store=RunStore())
    record = RunStore().get(result.run_id)
    assert record.model_path
    if config.model.name != "tfidf-logreg":
        assert record.metrics["model_revision"] is None  # recorded: the tiny model is built here, from no commit
    return KeptModel(record.model_path)


@pytest.mark.parametrize(
    "techniques",
    [
        [],
        [TechniqueSpec("lora")],
        [TechniqueSpec("quant")],
        [TechniqueSpec("prune", {"method": "heads", "sparsity": 0.5})],
        [TechniqueSpec("prune", {"method": "layers", "sparsity": 0.5})],
        [TechniqueSpec("distill", {"student_share": 0.5})],
    ],
    ids=["full", "lora-merged", "int8", "heads-pruned", "layers-pruned", "distilled"],
)
def test_kept_transformer_predicts_a_label_with_probabilities(techniques):
    config = tiny_config(epochs=1)
    config.techniques = techniques
    model = kept(config)
    predictions = model.predict(["apik banget", "ora enak babar pisan"])
    assert len(predictions) == 2
    first = predictions[0]
    assert model.label_names == ["negative", "neutral", "positive"]
    assert first.label in model.label_names
    assert sum(first.probabilities.values()) == pytest.approx(1.0, abs=1e-4)
    assert next(iter(first.probabilities)) == first.label  # highest first


def test_kept_baseline_predicts():
    config = tiny_config()
    config.model = ModelConfig(name="tfidf-logreg")
    model = kept(config)
    assert model.predict(["apik"])[0].label in model.label_names


def test_a_missing_folder_says_what_to_do():
    with pytest.raises(ModelLoadError, match=r"is gone.*train the run again"):
        KeptModel(paths.models_dir() / "run-404")
