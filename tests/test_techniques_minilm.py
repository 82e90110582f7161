"""Each technique on MiniLM and NusaX-senti (slow: `make test-slow`)."""

from __future__ import annotations

import pytest

from efficiency.config import DataConfig, MeasureConfig, ModelConfig, RunConfig, TechniqueSpec, TrainConfig
from efficiency.runs.runner import run_experiment
from tests.conftest import needs_shared_data

pytestmark = [pytest.mark.slow, needs_shared_data]

CASES = [
    ("lora", {}),
    ("prefix", {}),
    ("ia3", {}),
    ("bitfit", {}),
    ("freeze", {"train_top_layers": 2}),
    ("probe", {}),
    ("prune", {"method": "magnitude", "sparsity": 0.5}),
    ("prune", {"method": "heads", "sparsity": 0.25}),
    ("prune", {"method": "layers", "sparsity": 0.5}),
    ("filter", {"method": "random", "keep": 0.5}),
    ("filter", {"method": "hardest", "keep": 0.5}),
    ("filter", {"method": "multistage"}),
    ("quant", {}),
    ("distill", {"student_share": 0.5}),
    ("amp", {"allow_emulated": True}),  # this CPU has no native bf16: emulated, slower, still correct
]
# amp emulated on a CPU is several times slower: a smaller train set keeps the case to a minute.
LIMIT_TRAIN = {"amp": 200}


@pytest.mark.parametrize(("name", "params"), CASES, ids=[f"{n}-{p.get('method', '')}" for n, p in CASES])
def test_technique_on_minilm(name, params):
    config = RunConfig(
        model=ModelConfig(name="minilm"),
        data=DataConfig(dataset="nusax-senti/javanese", limit_train=LIMIT_TRAIN.get(name)),
        train=TrainConfig(epochs=2),
        measure=MeasureConfig(latency_repeats=2),
        techniques=[TechniqueSpec(name, params)],
        device="cpu",
    )
    result = run_experiment(config)
    assert result.status == "finished"
    assert result.metrics["accuracy"] > 0.33, "better than chance on 3 balanced-ish classes"
    assert name in result.metrics["techniques"]
