"""The TF-IDF baseline kept as plain data (JSON and safetensors): the same predictions, no pickle."""

from __future__ import annotations

import json

import numpy as np

from efficiency import baselines
from efficiency.data.splits import TextSplit

TEXTS = ["apik banget", "apik tenan, seneng", "ora enak", "elek banget, kuciwa", "biasa wae", "lumayan biasa"] * 2
LABELS = [2, 2, 0, 0, 1, 1] * 2
NEW = ["apik seneng", "kuciwa elek", "wae", "ñ ünïcode ꦗꦮ", ""]


def fitted():
    return baselines.fit(baselines.make_pipeline(seed=0), TextSplit(TEXTS, LABELS))


def test_a_kept_pipeline_predicts_exactly_as_the_fitted_one(tmp_path):
    pipeline = fitted()
    baselines.save(pipeline, ["negatif", "netral", "positif"], tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [baselines.MANIFEST, baselines.ARRAYS]
    rebuilt, names = baselines.load(tmp_path)
    assert names == ["negatif", "netral", "positif"]
    assert np.array_equal(pipeline.predict_proba(NEW), rebuilt.predict_proba(NEW))
    assert baselines.vocabulary_size(rebuilt) == baselines.vocabulary_size(pipeline)


def test_the_manifest_is_plain_json_and_the_size_is_of_those_files(tmp_path):
    pipeline = fitted()
    baselines.save(pipeline, ["a", "b", "c"], tmp_path)
    manifest = json.loads((tmp_path / baselines.MANIFEST).read_text(encoding="utf-8"))
    assert [v["params"]["analyzer"] for v in manifest["vectorizers"]] == ["word", "char_wb"]
    on_disk_mb = sum(p.stat().st_size for p in tmp_path.iterdir()) / 2**20
    assert abs(baselines.saved_size_mb(pipeline) - on_disk_mb) < 1e-4  # label names aside
