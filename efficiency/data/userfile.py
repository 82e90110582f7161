"""A user's own CSV/TSV: validated with clear errors, then split stratified and seeded.

Whatever the file holds, reading it either succeeds or raises `DataError` with a message that says
what to change (tests/data/bad/ and a Hypothesis test hold it to that). The file is read as a stream:
its encoding is checked chunk by chunk, and only pandas holds the whole table.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import os
import re
import tempfile
from pathlib import Path
from typing import IO, TYPE_CHECKING

from efficiency.data.splits import LabelledDataset, TextSplit, stratified_three_way
from efficiency.errors import DataError

if TYPE_CHECKING:
    import pandas as pd

MAX_FILE_MIB = 50  # the app's upload limit too (.streamlit/config.toml server.maxUploadSize, in MiB)
MIN_ROWS_PER_CLASS = 5  # enough for a stratified train/valid/test split
# Every run stores a confusion matrix (classes squared) that each run list loads: 1,000 classes made a 3 MB row.
MAX_CLASSES = 100
CHUNK_BYTES = 1 << 20  # read 1 MiB at a time when checking the encoding
SEPARATORS = (",", "\t", ";")
TEXT_GUESSES = ("text", "sentence", "content", "review", "tweet", "document")
LABEL_GUESSES = ("label", "labels", "category", "class", "sentiment", "target")
SPLIT_NAMES = {"train": "train", "valid": "valid", "validation": "valid", "dev": "valid", "test": "test"}


def save_upload(stream: IO[bytes], name: str, folder: Path) -> Path:
    """Copy an uploaded file into `folder` chunk by chunk (never whole in memory twice); named by its content.

    The name is the content's hash and the file's own name made safe, so the same file uploaded twice is
    kept once; a file over the limit is refused in words and leaves nothing behind.
    """
    digest, size_bytes = hashlib.sha256(), 0
    stream.seek(0)
    handle, temporary = tempfile.mkstemp(dir=folder, suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out:
            while chunk := stream.read(CHUNK_BYTES):
                size_bytes += len(chunk)
                if size_bytes > MAX_FILE_MIB * 2**20:
                    raise DataError(f"{name} is larger than {MAX_FILE_MIB} MiB: upload a sample of it.")
                digest.update(chunk)
                out.write(chunk)
        safe = re.sub(r"[^A-Za-z0-9._-]", "_", Path(name).name)[-80:]
        target = folder / f"{digest.hexdigest()[:12]}-{safe}"
        os.replace(temporary, target)  # atomic: a reader sees the whole file or none
    finally:
        Path(temporary).unlink(missing_ok=True)
    return target


def is_upload(dataset: str, folder: Path) -> bool:
    """Whether `dataset` names a file inside the uploads folder (and nowhere else)."""
    try:
        return Path(dataset).resolve().parent == folder.resolve()
    except (OSError, ValueError):
        return False


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

    texts = frame[text_col].fillna("").str.strip()  # a short (ragged) row leaves its missing cells empty
    labels = frame[label_col].fillna("").str.strip()
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


def read_header(path: str | Path) -> list[str]:
    """The column names, from the file's first 64 KiB (the whole file is checked when it is read)."""
    import pandas as pd

    path = _checked_path(path)
    with path.open("rb") as stream:
        first = stream.read(1 << 16)
    _refuse_other_formats(path, first)
    head = first.decode("utf-8-sig", errors="replace")
    try:
        frame = pd.read_csv(io.StringIO(head), sep=_separator(path, head), dtype=str, nrows=0)
    except (ValueError, pd.errors.EmptyDataError) as exc:  # ParserError and EmptyDataError are ValueErrors
        raise DataError(f"{path.name} has no readable header row. Save it as UTF-8 CSV with a header row.") from exc
    if len(frame.columns) < 2:
        raise DataError(_single_column(path))
    return [str(c) for c in frame.columns]


def _checked_path(path: str | Path) -> Path:
    """The file, refused in words when it is missing, empty or too large."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise DataError(f"File {path} does not exist. Check the path, or name a catalog dataset.")
    size_bytes = path.stat().st_size
    if size_bytes > MAX_FILE_MIB * 2**20:
        raise DataError(
            f"{path.name} is {size_bytes / 2**20:.1f} MiB; the limit is {MAX_FILE_MIB} MiB. Use a sample of it."
        )
    if size_bytes == 0:
        raise DataError(f"{path.name} is empty.")
    return path


def _checked_classes(labels: pd.Series, label_col: str) -> list[str]:
    """The sorted class names, refused in words when there is one class or a class too rare to split."""
    label_names = sorted(labels.unique())
    if len(label_names) > MAX_CLASSES:
        raise DataError(
            f"Column '{label_col}' holds {len(label_names):,} different labels; the lab takes at most {MAX_CLASSES} "
            "classes. Is it the label column? Otherwise merge rare classes into broader ones."
        )
    if len(label_names) < 2:
        raise DataError(
            f"Column '{label_col}' holds a single class ('{label_names[0]}'): a classifier needs at least two."
        )
    counts = labels.value_counts()
    rare = counts[counts < MIN_ROWS_PER_CLASS]
    if len(rare):
        listed = ", ".join(f"'{k}' ({v})" for k, v in rare.head(5).items())
        listed += f" and {len(rare) - 5} more" if len(rare) > 5 else ""
        raise DataError(
            f"Too few rows for class(es) {listed}: each class needs at least {MIN_ROWS_PER_CLASS} rows "
            "to be split into train, validation and test. Add rows or merge those classes."
        )
    return label_names


def _read(path: Path) -> pd.DataFrame:
    import pandas as pd  # half a second to import: only when a file is read

    head = _checked_text(path)
    separator = _separator(path, head)
    try:
        frame = pd.read_csv(path, sep=separator, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"{path.name} holds no table (no header row). Save it as CSV with a header row.") from exc
    except (ValueError, UnicodeError) as exc:  # pandas' ParserError is a ValueError; the message names the line
        reason = str(exc).strip().splitlines()[-1][:200] if str(exc).strip() else type(exc).__name__
        raise DataError(
            f"{path.name} could not be read as a table ({reason}). Check quotes and separators: every row needs "
            "as many fields as the header."
        ) from exc
    if len(frame.columns) < 2:
        raise DataError(_single_column(path))
    return frame


def _single_column(path: Path) -> str:
    return (
        f"{path.name} has a single column: it needs a text column and a label column separated by commas (CSV) "
        "or tabs (TSV)."
    )


def _checked_text(path: Path) -> str:
    """The file's first 64 KiB as text, after checking chunk by chunk that all of it is UTF-8 without NUL bytes."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    head, offset = "", 0
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK_BYTES):
            if offset == 0:
                _refuse_other_formats(path, chunk)
            try:
                text = decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                raise DataError(
                    f"{path.name} is not UTF-8 text (byte {offset + exc.start} cannot be decoded). Save it as UTF-8 "
                    "(in a spreadsheet: 'CSV UTF-8') and upload it again."
                ) from exc
            if "\0" in text:
                raise DataError(
                    f"{path.name} holds NUL bytes near byte {offset + text.index(chr(0))}: it is not a text table. "
                    "Save it as UTF-8 CSV and upload it again."
                )
            head = head or text[: 1 << 16]
            offset += len(chunk)
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        raise DataError(f"{path.name} ends in the middle of a character: it is not UTF-8 text.") from exc
    return head


def _refuse_other_formats(path: Path, first: bytes) -> None:
    """A file that is plainly something else than a text table, named in words."""
    if first.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise DataError(f"{path.name} is UTF-16 text: save it as UTF-8 (in a spreadsheet: 'CSV UTF-8').")
    if first.startswith(b"\x1f\x8b") or first.startswith(b"PK\x03\x04"):
        raise DataError(f"{path.name} is a compressed file (gzip or zip): unpack it and upload the CSV inside.")
    if first.lstrip(codecs.BOM_UTF8 + b" \t\r\n")[:1] in (b"[", b"{"):
        raise DataError(f"{path.name} looks like JSON: save it as CSV (a header row, then one row per text).")


def _separator(path: Path, head: str) -> str:
    """Tab for .tsv; otherwise the separator the header row holds most of (a .csv may hold ';' or tabs)."""
    if path.suffix.lower() == ".tsv":
        return "\t"
    header = head.splitlines()[0] if head.strip() else ""
    counts = {sep: header.count(sep) for sep in SEPARATORS}
    best = max(SEPARATORS, key=lambda sep: counts[sep])  # ties go to the comma, listed first
    return best if counts[best] else ","


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
