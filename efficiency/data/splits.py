"""Labelled text splits, and the stratified, seeded sampling used on them."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from efficiency.errors import DataError


@dataclass
class TextSplit:
    """One split: parallel lists of texts and integer labels."""

    texts: list[str]
    labels: list[int]

    def __len__(self) -> int:
        return len(self.texts)

    def subset(self, indices: list[int] | np.ndarray) -> TextSplit:
        return TextSplit([self.texts[i] for i in indices], [self.labels[i] for i in indices])


@dataclass
class LabelledDataset:
    """A dataset ready for training: three splits, label names and where it came from."""

    name: str
    train: TextSplit
    valid: TextSplit
    test: TextSplit
    label_names: list[str]
    source_dir: str
    default_max_length: int
    info: dict[str, str] = field(default_factory=dict)  # licence, citation, ... for the run record

    @property
    def num_labels(self) -> int:
        return len(self.label_names)

    def summary(self) -> dict[str, object]:
        return {
            "name": self.name,
            "train_examples": len(self.train),
            "valid_examples": len(self.valid),
            "test_examples": len(self.test),
            "labels": list(self.label_names),
            "train_class_counts": class_counts(self.train, self.label_names),
            "source_dir": self.source_dir,
            **self.info,
        }


def class_counts(split: TextSplit, label_names: list[str]) -> dict[str, int]:
    counts = Counter(split.labels)
    return {name: counts.get(i, 0) for i, name in enumerate(label_names)}


def stratified_subsample(split: TextSplit, limit: int, seed: int) -> TextSplit:
    """Keep `limit` examples with the class proportions of the whole split (files may be sorted by label)."""
    if limit >= len(split):
        return split
    n_classes = len(set(split.labels))
    if limit < n_classes:
        raise DataError(
            f"--limit-train {limit} is smaller than the number of classes ({n_classes}): "
            f"keep at least {n_classes} examples, better 10 per class."
        )
    indices = np.arange(len(split))
    from sklearn.model_selection import train_test_split  # 1 s to import: not on a page's first paint

    kept, _ = train_test_split(indices, train_size=limit, stratify=split.labels, random_state=seed)
    return split.subset(sorted(kept.tolist()))


def stratified_three_way(
    split: TextSplit, seed: int, valid_share: float = 0.1, test_share: float = 0.1
) -> tuple[TextSplit, TextSplit, TextSplit]:
    """Split one labelled file into train/valid/test, stratified and seeded.

    Each split holds at least one example per class: with many small classes the shares grow to that.
    """
    indices = np.arange(len(split))
    n_classes = len(set(split.labels))
    from sklearn.model_selection import train_test_split

    # A share is kept where it gives every class a row (the splits of earlier runs stay the same);
    # otherwise the count of classes.
    test_size: float | int = test_share if math.ceil(test_share * len(split)) >= n_classes else n_classes
    if len(split) - (test_size if isinstance(test_size, int) else math.ceil(test_share * len(split))) < 2 * n_classes:
        raise DataError(
            f"{len(split)} rows are too few for {n_classes} classes: train, validation and test each need a row of "
            "every class. Add rows or merge classes."
        )
    rest, test = train_test_split(indices, test_size=test_size, stratify=split.labels, random_state=seed)
    rest_labels = [split.labels[i] for i in rest]
    valid_size: float | int = valid_share / (1 - test_share)
    if math.ceil(valid_size * len(rest)) < n_classes:
        valid_size = n_classes
    train, valid = train_test_split(rest, test_size=valid_size, stratify=rest_labels, random_state=seed)
    return split.subset(sorted(train)), split.subset(sorted(valid)), split.subset(sorted(test))
