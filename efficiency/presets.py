"""Ready-made experiments: the home page's one-minute demo."""

from __future__ import annotations

from efficiency.config import DataConfig, ModelConfig, RunConfig, TechniqueSpec, TrainConfig

DEMO_DATASET = "nusax-senti/javanese"


def demo_config() -> RunConfig:
    """MiniLM with LoRA on Javanese sentiment, 2 epochs: about a minute on a 2-core laptop CPU."""
    return RunConfig(
        name="one-minute demo: MiniLM + LoRA, Javanese sentiment",
        note="The home page's demo preset.",
        model=ModelConfig(name="minilm"),
        data=DataConfig(dataset=DEMO_DATASET),
        train=TrainConfig(epochs=2),
        techniques=[TechniqueSpec("lora")],
        save_model=True,
    )
