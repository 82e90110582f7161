"""A user's own CSV/TSV: validated with clear errors, then split stratified and seeded."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING

from efficiency.data.splits import LabelledDataset, TextSplit, stratified_three_way
from efficiency.errors import DataError

if TYPE_CHECKING:
    import pandas as pd

MAX_FILE_MB = 200
MIN_ROWS_PER_CLASS = 5  # enough for a stratified train/valid/test split
TEXT_GUESSES = ("text", "sentence", "content", "review", "tweet", "document")
LABEL_GUESSES = ("label", "labels", "category", "class", "sentiment", "target")
SPLIT_NAMES = {"train": "train", "valid": "valid", "validation": "valid", "dev": "valid", "test": "test"}


def looks_like_file(dataset: str) -> bool:
    return Path(dataset).suffix.lower() in {".csv", ".tsv", ".txt"} or Path(dataset).is_file()


def read_user_file(
    path: str | Path,
    text_column: str | None,
    label_column: str | None,
    seed: int,
    default_max_length: int = 128,
) -> LabelledDataset:
    path = _checked_path(path)
    frame = _read(path)
    text_col = _pick(frame, text_column, TEXT_GUESSES, "text", path)
    label_col = _pick(frame, label_column, LABEL_GUESSES, "label", path)
    if text_col == label_col:
        raise DataError(f"The text and label columns are both '{text_col}': choose two different columns.")

    texts = frame[text_col].str.strip()
    labels = frame[label_col].str.strip()
    empty = (texts == "") | (labels == "")
    frame, texts, labels = frame[~empty], texts[~empty], labels[~empty]
    if len(frame) == 0:
        raise DataError(f"{path.name} has no row with both a text and a label.")

    label_names = _checked_classes(labels, label_col)
    index = {name: i for i, name in enumerate(label_names)}
    whole = TextSplit(texts.tolist(), [index[v] for v in labels])

    split_col = next((c for c in frame.columns if c.lower() == "split"), None)
    if split_col is not None:
        train, valid, test = _by_split_column(whole, frame[split_col], path)
    else:
        train, valid, test = stratified_three_way(whole, seed)
    return LabelledDataset(
        name=path.name,
        train=train,
        valid=valid,
        test=test,
        label_names=label_names,
        source_dir=str(path.parent),
        default_max_length=default_max_length,
        info={
            "license": "your own data",
            "citation": "",
            "source": str(path),
            "dropped_empty_rows": str(int(empty.sum())),
            "split": "split column" if split_col else "stratified 80/10/10, seeded",
        },
    )


def _checked_path(path: str | Path) -> Path:
    """The file, refused in words when it is missing, empty or too large."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise DataError(f"File {path} does not exist. Check the path, or name a catalog dataset.")
    size_mb = path.stat().st_size / 1e6
    if size_mb > MAX_FILE_MB:
        raise DataError(f"{path.name} is {size_mb:.0f} MB; the limit is {MAX_FILE_MB} MB. Use a sample of it.")
    if size_mb == 0:
        raise DataError(f"{path.name} is empty.")
    return path


def _checked_classes(labels: pd.Series, label_col: str) -> list[str]:
    """The sorted class names, refused in words when there is one class or a class too rare to split."""
    label_names = sorted(labels.unique())
    if len(label_names) < 2:
        raise DataError(
            f"Column '{label_col}' holds a single class ('{label_names[0]}'): a classifier needs at least two."
        )
    counts = labels.value_counts()
    rare = counts[counts < MIN_ROWS_PER_CLASS]
    if len(rare):
        listed = ", ".join(f"'{k}' ({v})" for k, v in rare.items())
        raise DataError(
            f"Too few rows for class(es) {listed}: each class needs at least {MIN_ROWS_PER_CLASS} rows "
            "to be split into train, validation and test. Add rows or merge those classes."
        )
    return label_names


def _read(path: Path) -> pd.DataFrame:
    import pandas as pd  # half a second to import: only when a file is read

    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{path.name} is not UTF-8 text (byte {exc.start} cannot be decoded). Save it as UTF-8 (in a "
            "spreadsheet: 'CSV UTF-8') and upload it again."
        ) from exc
    separator = _separator(path, text)
    try:
        frame = pd.read_csv(path, sep=separator, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataError(f"{path.name} could not be read as a table ({exc}). Check quotes and separators.") from exc
    if len(frame.columns) < 2:
        raise DataError(
            f"{path.name} has a single column: it needs a text column and a label column "
            "separated by commas (CSV) or tabs (TSV)."
        )
    return frame


def _separator(path: Path, text: str) -> str:
    if path.suffix.lower() == ".tsv":
        return "\t"
    if path.suffix.lower() == ".csv":
        return ","
    try:
        return csv.Sniffer().sniff(text[:10_000], delimiters=",\t;").delimiter
    except csv.Error:
        return ","


def _pick(frame: pd.DataFrame, wanted: str | None, guesses: tuple[str, ...], role: str, path: Path) -> str:
    columns = list(frame.columns)
    if wanted:
        if wanted not in columns:
            raise DataError(f"{path.name} has no column '{wanted}'. Its columns: {', '.join(columns)}.")
        return wanted
    lowered = {c.lower(): c for c in columns}
    for guess in guesses:
        if guess in lowered:
            return lowered[guess]
    raise DataError(
        f"Which column holds the {role}? {path.name} has {', '.join(columns)}: "
        f"name it with --{role}-column (or choose it on the page)."
    )


def _by_split_column(whole: TextSplit, split_values: pd.Series, path: Path) -> tuple[TextSplit, TextSplit, TextSplit]:
    names = split_values.str.strip().str.lower().map(SPLIT_NAMES)
    if names.isna().any():
        bad = sorted(set(split_values[names.isna()]))[:5]
        raise DataError(f"{path.name}: the split column holds {bad}; use train, valid (or dev) and test.")
    parts = {}
    for split in ("train", "valid", "test"):
        idx = [i for i, name in enumerate(names) if name == split]
        if not idx:
            raise DataError(f"{path.name}: the split column has no '{split}' rows.")
        parts[split] = whole.subset(idx)
    return parts["train"], parts["valid"], parts["test"]
