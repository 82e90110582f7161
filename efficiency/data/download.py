"""Download a catalog dataset from its public source, mapping upstream file names to our layout.

Every file is capped in size and, where the catalog knows its sha256, checked before it is kept.
All files of a dataset land in temporary files first and are moved into place only when every one
arrived whole and checked, so a failure leaves neither a half-written file nor temporary ones.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import sys
import tempfile
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from tqdm import tqdm

from efficiency.data.catalog import DatasetRef
from efficiency.errors import DataError

Opener = Callable[[str], BinaryIO]
CHUNK_BYTES = 1 << 16
MIB = 1024 * 1024
# The largest file of the catalog is 3.7 MiB (masakhanews/orm/train.tsv); a source serving more than
# ten times that is not the dataset we know.
MAX_FILE_BYTES = 40 * MIB


def planned_files(ref: DatasetRef) -> list[tuple[str, str]]:
    """(source URL, local file name) pairs for one dataset, in our folder layout."""
    base = ref.family.base_url.format(language=ref.language or "")
    pairs = [(base + split.upstream_name, split.local_name) for split in ref.family.splits]
    pairs += [(base + name, name) for name in ref.family.extra_files]
    return pairs


def expected_sha256(ref: DatasetRef, local_name: str) -> str | None:
    """The catalog's sha256 of one file, or None where the catalog does not know it."""
    return ref.family.sha256.get(f"{ref.language}/{local_name}" if ref.language else local_name)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def download(
    ref: DatasetRef,
    root: Path,
    opener: Opener | None = None,
    progress: bool = True,
    max_file_bytes: int = MAX_FILE_BYTES,
) -> Path:
    """Fetch every file of `ref` into root/<family>/<language>; on failure nothing new is left there."""
    opener = opener or _open_url
    target = root / ref.family.relative_dir(ref.language)
    created = not target.exists()
    target.mkdir(parents=True, exist_ok=True)
    fetched: list[tuple[Path, Path]] = []
    try:
        for url, local_name in planned_files(ref):
            label = f"{ref.name}/{local_name}"
            part = _fetch(url, target, label, opener, progress, max_file_bytes, expected_sha256(ref, local_name))
            fetched.append((part, target / local_name))
        for part, final in fetched:
            os.replace(part, final)
    except BaseException:
        for part, _final in fetched:
            part.unlink(missing_ok=True)
        if created:
            with contextlib.suppress(OSError):  # only when empty: never remove what was there before
                for folder in (target, *target.parents):
                    if folder == root:
                        break
                    folder.rmdir()
        raise
    return target


def _fetch(
    url: str, folder: Path, label: str, opener: Opener, progress: bool, max_bytes: int, sha256: str | None
) -> Path:
    """One file into a temporary file in `folder`, its size capped and its sha256 checked; removed on failure."""
    digest = hashlib.sha256()
    fd, name = tempfile.mkstemp(dir=folder, prefix=".download-", suffix=".part")
    part = Path(name)
    try:
        with os.fdopen(fd, "wb") as handle, opener(url) as response:
            total = _content_length(response)
            if total is not None and total > max_bytes:
                raise DataError(_too_large(label, url, total, max_bytes))
            with tqdm(total=total, unit="B", unit_scale=True, desc=label, disable=not progress, file=sys.stderr) as bar:
                size = 0
                while chunk := response.read(CHUNK_BYTES):
                    size += len(chunk)
                    if size > max_bytes:
                        raise DataError(_too_large(label, url, size, max_bytes))
                    digest.update(chunk)
                    handle.write(chunk)
                    bar.update(len(chunk))
        if sha256 is not None and digest.hexdigest() != sha256:
            raise DataError(
                f"{label} from {url} is not the file the catalog knows (its sha256 differs): the download was "
                "damaged or the source changed. Nothing was kept. Try again later, or copy the dataset's files "
                "by hand into the data folder."
            )
    except http.client.HTTPException as exc:  # a truncated response is not an OSError
        part.unlink(missing_ok=True)
        raise OSError(f"{label}: the connection broke ({type(exc).__name__})") from exc
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return part


def _content_length(response: BinaryIO) -> int | None:
    try:
        return int(getattr(response, "headers", {}).get("Content-Length") or 0) or None
    except ValueError:
        return None


def _too_large(label: str, url: str, size: int, max_bytes: int) -> str:
    return (
        f"{label} from {url} is larger than {max_bytes / MIB:.0f} MiB ({size / MIB:.1f} MiB so far): not the "
        "dataset the catalog knows. Nothing was kept."
    )


def _open_url(url: str) -> BinaryIO:
    request = urllib.request.Request(url, headers={"User-Agent": "efficiency-lab"})
    return urllib.request.urlopen(request, timeout=30)
