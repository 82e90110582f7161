"""Data filtering: train on fewer, better examples (random subset, length, near-duplicates).

The multistage, loss-based filtering of Ouyang et al. (2023) and hardest-first selection need the
model in the loop and come with the next step of this module; these static filters run before
training and cost almost nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from efficiency.data.splits import TextSplit
from efficiency.errors import ConfigError
from efficiency.techniques.base import Technique, TechniqueContext, option


@dataclass
class FilterConfig:
    method: str = option(
        "random",
        "random: a random share of the examples; length: drop very short and very long texts; "
        "dedup: drop near-duplicates.",
        ("random", "length", "dedup"),
    )
    keep: float = option(0.5, "random only: the share of training examples to keep (stratified by label).")
    min_tokens: int = option(4, "length only: drop texts shorter than this many tokens.")
    max_tokens: int = option(512, "length only: drop texts longer than this many tokens.")
    similarity: float = option(
        0.9, "dedup only: cosine similarity of character 3-5 grams above which texts are duplicates."
    )

    def check(self) -> None:
        if not 0 < self.keep <= 1:
            raise ConfigError(f"filter.keep is {self.keep}: keep a share above 0, at most 1.")
        if self.min_tokens < 0 or self.max_tokens < self.min_tokens:
            raise ConfigError("filter: min_tokens must be 0 or more and at most max_tokens.")
        if not 0 < self.similarity <= 1:
            raise ConfigError(f"filter.similarity is {self.similarity}: use a value above 0, at most 1.")


class Filter(Technique):
    name: ClassVar[str] = "filter"
    stage: ClassVar[str] = "data"
    summary: ClassVar[str] = "Train on a filtered subset of the training data: fewer examples, less compute."
    lesson: ClassVar[str] = (
        "Compute grows with the examples seen. Many datasets hold redundant, near-duplicate or uninformative "
        "examples: removing them cuts training cost in proportion, often at a small cost in accuracy. Ouyang et al. "
        "(2023) go further and skip examples the model already gets right: up to 5.3x fewer examples and 6.8x "
        "less training time."
    )
    citation: ClassVar[str] = (
        "Ouyang et al. (2023). Efficient NLP Model Finetuning via Multistage Data Filtering. IJCAI 2023."
    )
    Config: ClassVar[type] = FilterConfig

    def filter_data(self, train: TextSplit, ctx: TechniqueContext) -> TextSplit:
        method = self.config.method
        if method == "random":
            kept = _stratified_share(train.labels, self.config.keep, ctx.seed)
        elif method == "length":
            lengths = [len(ids) for ids in ctx.tokenizer(train.texts, truncation=False)["input_ids"]]
            kept = [i for i, n in enumerate(lengths) if self.config.min_tokens <= n <= self.config.max_tokens]
        else:
            kept = _dedup(train.texts, self.config.similarity)
        if len(set(train.labels[i] for i in kept)) < len(set(train.labels)):
            raise ConfigError(f"filter:{method} removed every example of a class: keep more.")
        self.stats.update(examples_before=len(train), examples_after=len(kept), examples_removed=len(train) - len(kept))
        return train.subset(kept)


def _stratified_share(labels: list[int], share: float, seed: int) -> list[int]:
    rng = np.random.default_rng(seed)
    kept: list[int] = []
    for label in sorted(set(labels)):
        members = [i for i, y in enumerate(labels) if y == label]
        n = max(1, round(share * len(members)))
        kept.extend(rng.choice(members, size=n, replace=False).tolist())
    return sorted(kept)


def _dedup(texts: list[str], threshold: float, chunk: int = 2048) -> list[int]:
    """Keep the first of each group of near-duplicates (cosine of TF-IDF character 3-5 grams)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectors = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5)).fit_transform(texts)
    dropped: set[int] = set()
    for start in range(0, len(texts), chunk):
        sims = (vectors[start : start + chunk] @ vectors.T).tocoo()
        for row, col, value in zip(sims.row, sims.col, sims.data, strict=True):
            i = start + row
            if col < i and value >= threshold and col not in dropped:
                dropped.add(i)
    return [i for i in range(len(texts)) if i not in dropped]
