"""A dataset seen before training: sample rows, class balance, token lengths and truncation.

The Experiment page shows this, and the cost estimate uses its token counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from efficiency.config import DataConfig
from efficiency.data import LabelledDataset, load_dataset
from efficiency.data.splits import class_counts
from efficiency.estimate import TokenCounts
from efficiency.model_names import MINILM, TFIDF, TINY

SAMPLE_ROWS = 8


@dataclass
class Preview:
    name: str
    info: dict[str, Any]
    sizes: dict[str, int]
    label_names: list[str]
    class_counts: pd.DataFrame  # rows: labels, columns: splits
    samples: pd.DataFrame
    train_lengths: list[int]  # tokens per training text, before truncation
    max_length: int
    truncated_share: float  # of the training texts
    tokens: TokenCounts  # after truncation, what the model will read
    tokenizer_note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def load_tokenizer(model_name: str) -> tuple[Any, str]:
    """The model's own tokenizer when it can be had; else MiniLM's, with a note saying so."""
    from transformers import AutoTokenizer

    from efficiency.models import hub_reachable, minilm_path  # transformers and torch: not at import

    if model_name in (MINILM, TINY):
        return AutoTokenizer.from_pretrained(minilm_path(), trust_remote_code=False), ""
    if model_name == TFIDF:
        return AutoTokenizer.from_pretrained(
            minilm_path(), trust_remote_code=False
        ), "token lengths shown with MiniLM's tokenizer"
    try:
        return AutoTokenizer.from_pretrained(
            model_name, local_files_only=not hub_reachable(), trust_remote_code=False
        ), ""
    except (OSError, ValueError):
        return (
            AutoTokenizer.from_pretrained(minilm_path(), trust_remote_code=False),
            f"{model_name}'s tokenizer is not available offline: lengths shown with MiniLM's tokenizer",
        )


def token_lengths(tokenizer: Any, texts: list[str]) -> list[int]:
    if not texts:
        return []
    return [len(ids) for ids in tokenizer(texts, add_special_tokens=True, truncation=False)["input_ids"]]


def preview_dataset(
    cfg: DataConfig, model_name: str, seed: int = 42, held_tokenizer: tuple[Any, str] | None = None
) -> Preview:
    """Read the dataset as a run would (same subsample), and measure its token lengths."""
    dataset: LabelledDataset = load_dataset(cfg, seed, allow_download=False)
    tokenizer, note = held_tokenizer or load_tokenizer(model_name)  # the app holds one per model
    max_length = cfg.max_length or dataset.default_max_length
    lengths = {name: token_lengths(tokenizer, split.texts) for name, split in _splits(dataset).items()}
    counts = pd.DataFrame({name: class_counts(split, dataset.label_names) for name, split in _splits(dataset).items()})
    samples = pd.DataFrame(
        {
            "text": dataset.train.texts[:SAMPLE_ROWS],
            "label": [dataset.label_names[y] for y in dataset.train.labels[:SAMPLE_ROWS]],
        }
    )
    train = lengths["train"]
    return Preview(
        name=dataset.name,
        info=dict(dataset.info),
        sizes={name: len(split) for name, split in _splits(dataset).items()},
        label_names=list(dataset.label_names),
        class_counts=counts,
        samples=samples,
        train_lengths=train,
        max_length=max_length,
        truncated_share=sum(n > max_length for n in train) / len(train) if train else 0.0,
        tokens=TokenCounts(**{name: sum(min(n, max_length) for n in values) for name, values in lengths.items()}),
        tokenizer_note=note,
    )


def _splits(dataset: LabelledDataset) -> dict[str, Any]:
    return {"train": dataset.train, "valid": dataset.valid, "test": dataset.test}
