"""Read catalog datasets from a data folder, downloading into the cache when they are missing."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from efficiency import paths
from efficiency.data.catalog import DatasetFamily, DatasetRef
from efficiency.data.splits import LabelledDataset, TextSplit
from efficiency.errors import DataError

if TYPE_CHECKING:
    import pandas as pd


def dataset_folder(ref: DatasetRef, root: Path) -> Path:
    return root / ref.family.relative_dir(ref.language)


def is_present(ref: DatasetRef, root: Path) -> bool:
    folder = dataset_folder(ref, root)
    needed = [s.local_name for s in ref.family.splits] + list(ref.family.extra_files)
    return all((folder / name).is_file() for name in needed)


def layout_help(ref: DatasetRef, root: Path) -> str:
    """The folder layout a user without a network must provide."""
    folder = dataset_folder(ref, root)
    files = ", ".join([s.local_name for s in ref.family.splits] + list(ref.family.extra_files))
    return (
        f"Provide the files {files} in {folder} (or point --data-dir / $EFFLAB_DATA_DIR at a folder laid out as "
        f"{ref.family.relative_dir(ref.language)}/<files>). Public source: {ref.family.source}."
    )


def locate(ref: DatasetRef, data_dir: str | None, allow_download: bool = True) -> Path:
    """The folder that holds `ref`: the data folder, else the cache, else a fresh download into the cache."""
    root = paths.data_dir(data_dir)
    if is_present(ref, root):
        return dataset_folder(ref, root)
    cache_root = paths.cache_dir() / "data"
    if is_present(ref, cache_root):
        return dataset_folder(ref, cache_root)
    if not allow_download:
        raise DataError(f"Dataset '{ref.name}' is not in {root}. {layout_help(ref, root)}")
    from efficiency.data.download import download

    try:
        download(ref, cache_root)
    except OSError as exc:
        raise DataError(
            f"Dataset '{ref.name}' is not in {root} and could not be downloaded ({exc}). "
            f"If you are offline: {layout_help(ref, root)}"
        ) from exc
    return dataset_folder(ref, cache_root)


def read_catalog_dataset(ref: DatasetRef, folder: Path) -> LabelledDataset:
    family = ref.family
    label_names = _label_names(family, folder)
    index = {name: i for i, name in enumerate(label_names)}
    splits: dict[str, TextSplit] = {}
    for split_file in family.splits:
        frame = read_table(folder / split_file.local_name, family.separator)
        splits[split_file.split] = _to_split(frame, family, index, folder / split_file.local_name)
    return LabelledDataset(
        name=ref.name,
        train=splits["train"],
        valid=splits["valid"],
        test=splits["test"],
        label_names=label_names,
        source_dir=str(folder),
        default_max_length=family.default_max_length,
        info={"license": family.license, "citation": family.citation, "source": family.source},
    )


def read_table(path: Path, separator: str) -> pd.DataFrame:
    """Read a CSV/TSV as strings; quoted fields may hold newlines (MasakhaNEWS xho does)."""
    import pandas as pd  # half a second to import: only when a file is read

    try:
        return pd.read_csv(path, sep=separator, dtype=str, keep_default_na=False, encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path} is not UTF-8 text ({exc.reason}). Save it as UTF-8 and try again.") from exc
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataError(f"{path} could not be read as a table: {exc}") from exc


def _label_names(family: DatasetFamily, folder: Path) -> list[str]:
    if family.labels is not None:
        return list(family.labels)
    lines = (folder / "labels.txt").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip()]


def _to_split(frame: pd.DataFrame, family: DatasetFamily, index: dict[str, int], path: Path) -> TextSplit:
    missing = [c for c in (*family.text_columns, family.label_column) if c not in frame.columns]
    if missing:
        raise DataError(f"{path} lacks the column(s) {', '.join(missing)}; it has {', '.join(frame.columns)}.")
    first, *rest = family.text_columns
    texts = frame[first].str.cat([frame[c] for c in rest], sep="\n").str.strip() if rest else frame[first].str.strip()
    raw_labels = frame[family.label_column].str.strip().map(lambda v: family.label_map.get(v, v))
    unknown = sorted(set(raw_labels) - set(index))
    if unknown:
        raise DataError(f"{path} has labels outside the catalog's {sorted(index)}: {unknown[:5]}.")
    keep = texts != ""
    return TextSplit(texts[keep].tolist(), [index[v] for v in raw_labels[keep]])
