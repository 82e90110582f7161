"""Predictions from a kept model: the result card's "try a sentence" box and `python -m efficiency predict`.

Only a folder inside the lab's models folder is read (`keep.kept_folder`), in the plain formats of
`runs/keep.py` and `baselines.py`: a pickle found there (`model.pt`, `pipeline.pkl`) is never loaded.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import torch

from efficiency import baselines
from efficiency.errors import EfficiencyError, ModelLoadError
from efficiency.runs import keep
from efficiency.runs.keep import kept_folder
from efficiency.store import RunRecord, RunStore

MAX_LENGTH = 256


@dataclass
class Prediction:
    label: str
    probabilities: dict[str, float]  # label -> probability, highest first


def kept_model_problem(model_path: str) -> str | None:
    """Why a run's kept model cannot be loaded, found without loading it (None: it looks loadable)."""
    try:
        kept_folder(model_path)
    except ModelLoadError as exc:
        return str(exc)
    return None


def kept_model_path(store: RunStore, run_id: int) -> str:
    """The stored folder of a run's kept model, or the plain reason there is none."""
    record: RunRecord | None = store.get(run_id)
    if record is None:
        raise EfficiencyError(f"There is no run {run_id}: see `python -m efficiency runs list`.")
    if record.status != "finished":
        raise EfficiencyError(f"Run {run_id} is {record.status}, not finished: only a finished run's model predicts.")
    if not record.model_path:
        raise EfficiencyError(
            f"Run {run_id} did not keep its model: train it again with --save-model (on the page: "
            "Keep the trained model)."
        )
    return record.model_path


class KeptModel:
    """A kept model loaded for inference on the CPU (so it never competes with a run for the GPU)."""

    def __init__(self, model_path: str | os.PathLike[str]) -> None:
        self.folder = kept_folder(model_path)
        self._pipeline: Any = None
        self._model: Any = None
        self._tokenizer: Any = None
        try:
            self._load()
        except EfficiencyError:
            raise
        except Exception as exc:  # a damaged folder must say so, not crash the page
            raise ModelLoadError(
                f"This run's kept model could not be loaded ({type(exc).__name__}): train the run again."
            ) from exc

    def _load(self) -> None:
        if (self.folder / baselines.MANIFEST).is_file():
            self._pipeline, self.label_names = baselines.load(self.folder)
            return
        self._model, self._tokenizer = keep.load_model(self.folder)
        id2label = keep.base_model(self._model).config.id2label
        self.label_names = [id2label[i] for i in range(len(id2label))]

    @torch.inference_mode()
    def predict(self, texts: list[str]) -> list[Prediction]:
        if self._pipeline is not None:
            probabilities = self._pipeline.predict_proba(texts)
        else:
            batch = self._tokenizer(texts, truncation=True, max_length=MAX_LENGTH, padding=True, return_tensors="pt")
            logits = self._model(**batch).logits
            probabilities = torch.softmax(logits.float(), dim=-1).numpy()
        out = []
        for row in probabilities:
            ranked = sorted(zip(self.label_names, row.tolist(), strict=True), key=lambda kv: -kv[1])
            out.append(Prediction(ranked[0][0], dict(ranked)))
        return out

    def predict_one(self, text: str) -> Prediction:
        """One sentence's prediction; an empty sentence is refused with what to do."""
        if not text.strip():
            raise EfficiencyError("The sentence is empty: type a sentence in the dataset's language.")
        return self.predict([text.strip()])[0]
