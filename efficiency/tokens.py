"""The tokenizer lens: how a model's tokenizer reads a language, before any training.

Per language (a dataset's training texts) or per sentence: fertility (pieces per whitespace word),
the share of unknown pieces, characters per piece, and the share of characters the tokenizer's
normaliser deletes (an uncased BERT tokenizer strips accents, and with them Devanagari's vowel signs).
Counted, not estimated: each figure is a count over the texts read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from efficiency.config import DataConfig
from efficiency.data import CATALOG, all_names, load_dataset, resolve

SAMPLE_TEXTS = 200  # training texts read per language: enough for stable shares, a second per language
METHOD = (
    "counted with the model's tokenizer: pieces without special tokens; words split on whitespace; characters "
    "lost = characters the tokenizer's normaliser removes (whitespace aside), over the characters written"
)


@dataclass(frozen=True)
class TokenStats:
    source: str  # a dataset name, or 'text'
    texts: int
    words: int
    pieces: int
    unknown: int
    chars: int  # characters written, whitespace aside
    chars_lost: int  # of those, removed by the normaliser

    @property
    def fertility(self) -> float | None:
        """Pieces per whitespace word (1.0: every word is one piece)."""
        return self.pieces / self.words if self.words else None

    @property
    def unknown_share(self) -> float | None:
        return self.unknown / self.pieces if self.pieces else None

    @property
    def chars_per_piece(self) -> float | None:
        return (self.chars - self.chars_lost) / self.pieces if self.pieces else None

    @property
    def lost_share(self) -> float | None:
        return self.chars_lost / self.chars if self.chars else None

    def to_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "fertility": self.fertility,
            "unknown_share": self.unknown_share,
            "chars_per_piece": self.chars_per_piece,
            "lost_share": self.lost_share,
        }


def count(tokenizer: Any, texts: Sequence[str], source: str) -> TokenStats:
    """The lens over `texts` with a Hugging Face tokenizer."""
    from transformers.utils import logging

    verbosity = logging.get_verbosity()
    logging.set_verbosity_error()  # a news article longer than the model reads is counted, not a warning
    try:
        return _count(tokenizer, texts, source)
    finally:
        logging.set_verbosity(verbosity)


def _count(tokenizer: Any, texts: Sequence[str], source: str) -> TokenStats:
    normalizer = getattr(getattr(tokenizer, "backend_tokenizer", None), "normalizer", None)
    words = pieces = unknown = chars = lost = 0
    for text in texts:
        tokens = tokenizer.tokenize(text)
        written = _visible(text)
        kept = _visible(normalizer.normalize_str(text)) if normalizer is not None else written
        words += len(text.split())
        pieces += len(tokens)
        unknown += sum(token == tokenizer.unk_token for token in tokens)
        chars += written
        lost += max(0, written - kept)
    return TokenStats(source, len(texts), words, pieces, unknown, chars, lost)


def _visible(text: str) -> int:
    return sum(not c.isspace() for c in text)


def split_pieces(tokenizer: Any, text: str) -> list[str]:
    """The pieces of one sentence, as the model reads them."""
    return list(tokenizer.tokenize(text))


def dataset_names(name: str | None) -> list[str]:
    """'nusax-senti' -> its 12 languages; 'nusax-senti/javanese' -> itself; None -> every catalogue dataset."""
    from efficiency.data.userfile import looks_like_file

    if name is None:
        return all_names()
    if looks_like_file(name):
        return [name]
    if name in CATALOG and CATALOG[name].languages:
        return [CATALOG[name].dataset_name(language) for language in CATALOG[name].languages]
    return [resolve(name).family.dataset_name(resolve(name).language)]


def dataset_lens(tokenizer: Any, names: Sequence[str], data_dir: str | None = None,
                 sample: int = SAMPLE_TEXTS) -> list[TokenStats]:  # fmt: skip
    """The lens over the first `sample` training texts of each dataset found locally (a missing one is skipped)."""
    from efficiency.errors import DataError

    rows = []
    for name in names:
        try:
            dataset = load_dataset(DataConfig(dataset=name, data_dir=data_dir), seed=0, allow_download=False)
        except DataError:
            continue
        rows.append(count(tokenizer, dataset.train.texts[:sample], name))
    return rows
