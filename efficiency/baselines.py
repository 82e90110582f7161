"""The classical baseline: TF-IDF (word 1-2 grams and character 2-5 grams) + logistic regression.

It is the yardstick every transformer run should be compared with: on small low-resource
datasets it is often as accurate, at a tiny fraction of the compute.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

from efficiency.data.splits import TextSplit


def make_pipeline(seed: int) -> Pipeline:
    features = FeatureUnion(
        [
            ("words", TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True, min_df=1)),
            ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2)),
        ]
    )
    classifier = LogisticRegression(C=10.0, max_iter=2000, random_state=seed)
    return Pipeline([("tfidf", features), ("logreg", classifier)])


def fit(pipeline: Pipeline, train: TextSplit) -> Pipeline:
    return pipeline.fit(train.texts, train.labels)


def predict(pipeline: Pipeline, texts: list[str]) -> list[int]:
    return pipeline.predict(texts).tolist()


def parameter_count(pipeline: Pipeline) -> int:
    """Learned numbers: the classifier's weights and biases (the vocabulary is a lookup table)."""
    logreg: LogisticRegression = pipeline.named_steps["logreg"]
    return int(np.asarray(logreg.coef_).size + np.asarray(logreg.intercept_).size)


def vocabulary_size(pipeline: Pipeline) -> int:
    union: FeatureUnion = pipeline.named_steps["tfidf"]
    return sum(len(vec.vocabulary_) for _, vec in union.transformer_list)


def saved_size_mb(pipeline: Pipeline) -> float:
    """Bytes of the pickled pipeline (vocabulary included), in MiB."""
    return len(pickle.dumps(pipeline, protocol=pickle.HIGHEST_PROTOCOL)) / 2**20


PIPELINE_FILE = "pipeline.pkl"


def save(pipeline: Pipeline, label_names: list[str], folder: Path) -> str:
    """Keep a fitted pipeline (pickled, so load only folders this lab wrote) and its label names."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / PIPELINE_FILE).write_bytes(pickle.dumps(pipeline, protocol=pickle.HIGHEST_PROTOCOL))
    (folder / "labels.json").write_text(json.dumps(label_names), encoding="utf-8")
    return str(folder)


def load(folder: Path) -> tuple[Pipeline, list[str]]:
    pipeline = pickle.loads((folder / PIPELINE_FILE).read_bytes())
    return pipeline, json.loads((folder / "labels.json").read_text(encoding="utf-8"))
