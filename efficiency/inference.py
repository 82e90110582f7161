"""Predictions from a kept model (a run trained with `save_model`): the app's "try a sentence" box."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from efficiency import baselines
from efficiency.errors import ModelLoadError

MAX_LENGTH = 256


@dataclass
class Prediction:
    label: str
    probabilities: dict[str, float]  # label -> probability, highest first


class KeptModel:
    """A kept model loaded for inference on the CPU (so it never competes with a run for the GPU)."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise ModelLoadError(
                f"The kept model folder {self.folder} is gone (deleted or moved): train the run again "
                "with 'keep the trained model' on."
            )
        self._pipeline: Any = None
        self._model: Any = None
        self._tokenizer: Any = None
        try:
            self._load()
        except ModelLoadError:
            raise
        except Exception as exc:  # a format we cannot reload must say so, not crash the page
            raise ModelLoadError(f"The kept model in {self.folder} could not be loaded: {exc}") from exc

    def _load(self) -> None:
        if (self.folder / baselines.PIPELINE_FILE).exists():
            self._pipeline, self.label_names = baselines.load(self.folder)
            return
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        self._tokenizer = AutoTokenizer.from_pretrained(self.folder)
        if (self.folder / "model.pt").exists():  # quantized or head-pruned: no longer a transformers model
            self._model = torch.load(self.folder / "model.pt", weights_only=False)  # a file this lab wrote
        elif (self.folder / "adapter_config.json").exists():
            import json

            from peft import AutoPeftModelForSequenceClassification

            adapter = json.loads((self.folder / "adapter_config.json").read_text(encoding="utf-8"))
            base = adapter.get("base_model_name_or_path")
            if not base or (not Path(base).is_dir() and "/" not in str(base)):
                raise ModelLoadError(
                    "This run kept only its adapter, and its base model (a randomly initialised one) cannot be "
                    "rebuilt from disk. Keep a merged model instead (LoRA and IA3 merge by default), or use a "
                    "pretrained base such as MiniLM."
                )
            self._model = AutoPeftModelForSequenceClassification.from_pretrained(self.folder)
        else:
            self._model = AutoModelForSequenceClassification.from_pretrained(self.folder)
        self._model.eval()
        id2label = self._config().id2label
        self.label_names = [id2label[i] for i in range(len(id2label))]

    def _config(self) -> Any:
        model = self._model
        while not hasattr(model, "config") and hasattr(model, "model"):
            model = model.model
        return model.config

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
