"""Uploaded datasets kept in the run store, so any machine serving a class's queue can run them.

A page that queues a run on an uploaded file puts the file's bytes in the store (`RunStore.put_upload`);
the worker, whichever machine it runs on, writes them into its own uploads folder under the same name
(checked against their SHA-256) before loading, and reads them from there. Plain bytes of a text table:
nothing is ever unpickled. Deleting the last run that uses a file removes it from the store.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

from efficiency import paths
from efficiency.data.userfile import is_upload, looks_like_file
from efficiency.errors import DataError

if TYPE_CHECKING:  # the store needs SQLAlchemy; the device check runs recipes without it
    from efficiency.store import RunStore


def keep_in_store(dataset: str, store: RunStore) -> None:
    """Put a file from this machine's uploads folder into the store (other datasets are left alone)."""
    if looks_like_file(dataset) and is_upload(dataset, paths.uploads_dir()) and Path(dataset).is_file():
        store.put_upload(Path(dataset))


def materialised(dataset: str, store: RunStore) -> str:
    """Where this machine reads `dataset`: an upload the store holds, in this machine's uploads folder.

    Written there from the store when missing or different (by its SHA-256); any other dataset as it is.
    """
    if not looks_like_file(dataset):
        return dataset
    name = Path(dataset).name
    digest = store.upload_digest(name)
    if digest is None:
        return dataset  # a file named on the command line, or a run from before uploads were stored
    target = paths.uploads_dir() / name
    if target.is_file() and _sha256(target) == digest:
        return str(target)
    content = store.upload_content(name) or b""
    if hashlib.sha256(content).hexdigest() != digest:
        raise DataError(f"The uploaded file {name[13:]} changed in the run store: upload it again and rerun.")
    partial = target.with_name(f".{name}.{os.getpid()}.part")
    partial.write_bytes(content)
    os.replace(partial, target)  # atomic: a reader sees the whole file or none
    return str(target)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
