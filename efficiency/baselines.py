"""The classical baseline: TF-IDF (word 1-2 grams and character 2-5 grams) + logistic regression.

It is the yardstick every transformer run should be compared with: on small low-resource
datasets it is often as accurate, at a tiny fraction of the compute.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file, save_file
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


SIZE_METHOD = "bytes of the kept files (terms and settings as JSON, idf and weights as safetensors), in MiB"


def saved_size_mb(pipeline: Pipeline) -> float:
    """Bytes of the pipeline kept as `save` keeps it (vocabulary included), in MiB, measured by writing it."""
    with tempfile.TemporaryDirectory() as tmp:
        save(pipeline, [], Path(tmp))
        return sum(f.stat().st_size for f in Path(tmp).iterdir()) / 2**20


# Kept as plain data, never pickled: the vocabulary and settings as JSON, the learned arrays as safetensors.
MANIFEST = "tfidf.json"
ARRAYS = "tfidf.safetensors"
FORMAT = 1
# The vectorizer settings that change what it computes (the rest are scikit-learn's defaults, or callables).
VECTORIZER_PARAMS = ("analyzer", "ngram_range", "lowercase", "strip_accents", "token_pattern", "binary", "norm",
                     "use_idf", "smooth_idf", "sublinear_tf")  # fmt: skip


def save(pipeline: Pipeline, label_names: list[str], folder: Path) -> str:
    """Keep a fitted pipeline as plain data: terms and settings in JSON, idf and weights in safetensors."""
    union: FeatureUnion = pipeline.named_steps["tfidf"]
    logreg: LogisticRegression = pipeline.named_steps["logreg"]
    arrays = {
        "logreg.coef": np.ascontiguousarray(logreg.coef_, dtype=np.float64),
        "logreg.intercept": np.ascontiguousarray(logreg.intercept_, dtype=np.float64),
        "logreg.classes": np.ascontiguousarray(logreg.classes_, dtype=np.int64),
    }
    vectorizers = []
    for name, vectorizer in union.transformer_list:
        settings = vectorizer.get_params()
        terms = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.__getitem__)
        vectorizers.append({"name": name, "params": {k: settings[k] for k in VECTORIZER_PARAMS}, "terms": terms})
        arrays[f"{name}.idf"] = np.ascontiguousarray(vectorizer.idf_, dtype=np.float64)
    folder.mkdir(parents=True, exist_ok=True)
    save_file(arrays, folder / ARRAYS)
    manifest = {"format": FORMAT, "kind": "tfidf", "label_names": list(label_names), "vectorizers": vectorizers}
    (folder / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    return str(folder)


def load(folder: Path) -> tuple[Pipeline, list[str]]:
    """A kept pipeline rebuilt from its plain data (scikit-learn's fitted attributes set directly)."""
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    if manifest.get("format") != FORMAT or manifest.get("kind") != "tfidf":
        raise ValueError(f"{MANIFEST} is not a TF-IDF pipeline of format {FORMAT}")
    arrays = load_file(folder / ARRAYS)
    vectorizers = []
    for item in manifest["vectorizers"]:
        params = {k: item["params"][k] for k in VECTORIZER_PARAMS}
        params["ngram_range"] = tuple(params["ngram_range"])
        vectorizer = TfidfVectorizer(**params)
        vectorizer.vocabulary_ = {term: i for i, term in enumerate(item["terms"])}
        vectorizer.fixed_vocabulary_ = False
        vectorizer.idf_ = arrays[f"{item['name']}.idf"]
        vectorizers.append((item["name"], vectorizer))
    logreg = LogisticRegression()
    logreg.coef_, logreg.intercept_ = arrays["logreg.coef"], arrays["logreg.intercept"]
    logreg.classes_ = arrays["logreg.classes"]
    logreg.n_features_in_ = logreg.coef_.shape[1]
    return Pipeline([("tfidf", FeatureUnion(vectorizers)), ("logreg", logreg)]), list(manifest["label_names"])
