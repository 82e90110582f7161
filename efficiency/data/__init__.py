"""Datasets: the catalog, reading from the data folder, downloading, and users' own files."""

from __future__ import annotations

from efficiency import paths
from efficiency.config import DataConfig
from efficiency.data.catalog import CATALOG, DatasetRef, all_names, resolve
from efficiency.data.readers import is_present, locate, read_catalog_dataset
from efficiency.data.splits import LabelledDataset, TextSplit, stratified_subsample
from efficiency.data.userfile import looks_like_file, read_user_file
from efficiency.errors import DataError

__all__ = [
    "CATALOG",
    "LabelledDataset",
    "TextSplit",
    "all_names",
    "list_datasets",
    "load_dataset",
    "resolve",
]


def load_dataset(cfg: DataConfig, seed: int, allow_download: bool = True) -> LabelledDataset:
    """Load the configured dataset, subsampling the training split when asked (and testing on another when asked)."""
    dataset = _read(cfg.dataset, cfg, seed, allow_download)
    if cfg.limit_train is not None:
        dataset.train = stratified_subsample(dataset.train, cfg.limit_train, seed)
    if cfg.test_dataset:
        other = _read(cfg.test_dataset, cfg, seed, allow_download)
        dataset.test = relabelled(other.test, other.label_names, dataset.label_names, cfg.test_dataset, dataset.name)
        dataset.info["test_dataset"] = other.name
    return dataset


def _read(name: str, cfg: DataConfig, seed: int, allow_download: bool) -> LabelledDataset:
    if looks_like_file(name):
        return read_user_file(name, cfg.text_column, cfg.label_column, seed)
    ref = resolve(name)
    return read_catalog_dataset(ref, locate(ref, cfg.data_dir, allow_download))


def relabelled(split: TextSplit, names: list[str], target: list[str], source: str, trained_on: str) -> TextSplit:
    """A split of another dataset, its labels matched to the training set's by name."""
    if sorted(names) != sorted(target):
        raise DataError(
            f"--test-dataset {source} has the labels {', '.join(sorted(names))}, but {trained_on} has "
            f"{', '.join(sorted(target))}: test on a dataset whose labels have the same names."
        )
    index = {name: target.index(name) for name in names}
    return TextSplit(list(split.texts), [index[names[label]] for label in split.labels])


def list_datasets(data_dir: str | None = None) -> list[dict[str, object]]:
    """Every catalog dataset with whether (and where) it is present locally."""
    root = paths.data_dir(data_dir)
    cache_root = paths.cache_dir() / "data"
    rows: list[dict[str, object]] = []
    for name in all_names():
        ref: DatasetRef = resolve(name)
        where = root if is_present(ref, root) else cache_root if is_present(ref, cache_root) else None
        rows.append(
            {
                "name": name,
                "task": ref.family.task,
                "license": ref.family.license,
                "present": where is not None,
                "folder": str(where / ref.family.relative_dir(ref.language)) if where else "",
                "source": ref.family.source,
            }
        )
    return rows
