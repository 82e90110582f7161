"""Datasets: the catalog, reading from the data folder, downloading, and users' own files."""

from __future__ import annotations

from efficiency import paths
from efficiency.config import DataConfig
from efficiency.data.catalog import CATALOG, DatasetRef, all_names, resolve
from efficiency.data.readers import is_present, locate, read_catalog_dataset
from efficiency.data.splits import LabelledDataset, TextSplit, stratified_subsample
from efficiency.data.userfile import looks_like_file, read_user_file

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
    """Load the configured dataset, subsampling the training split when asked."""
    if looks_like_file(cfg.dataset):
        dataset = read_user_file(cfg.dataset, cfg.text_column, cfg.label_column, seed)
    else:
        ref = resolve(cfg.dataset)
        dataset = read_catalog_dataset(ref, locate(ref, cfg.data_dir, allow_download))
    if cfg.limit_train is not None:
        dataset.train = stratified_subsample(dataset.train, cfg.limit_train, seed)
    return dataset


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
