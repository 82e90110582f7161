"""Download a catalog dataset from its public source, mapping upstream file names to our layout."""

from __future__ import annotations

import shutil
import sys
import tempfile
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from tqdm import tqdm

from efficiency.data.catalog import DatasetRef

Opener = Callable[[str], BinaryIO]
CHUNK_BYTES = 1 << 16


def planned_files(ref: DatasetRef) -> list[tuple[str, str]]:
    """(source URL, local file name) pairs for one dataset, in our folder layout."""
    base = ref.family.base_url.format(language=ref.language or "")
    pairs = [(base + split.upstream_name, split.local_name) for split in ref.family.splits]
    pairs += [(base + name, name) for name in ref.family.extra_files]
    return pairs


def download(ref: DatasetRef, root: Path, opener: Opener | None = None, progress: bool = True) -> Path:
    """Fetch every file of `ref` into root/<family>/<language>; nothing is left half-written."""
    opener = opener or _open_url
    target = root / ref.family.relative_dir(ref.language)
    target.mkdir(parents=True, exist_ok=True)
    for url, local_name in planned_files(ref):
        with opener(url) as response, tempfile.NamedTemporaryFile(dir=target, delete=False) as tmp:
            total = int(getattr(response, "headers", {}).get("Content-Length") or 0) or None
            with tqdm(
                total=total,
                unit="B",
                unit_scale=True,
                desc=f"{ref.name}/{local_name}",
                disable=not progress,
                file=sys.stderr,
            ) as bar:
                while chunk := response.read(CHUNK_BYTES):
                    tmp.write(chunk)
                    bar.update(len(chunk))
        shutil.move(tmp.name, target / local_name)
    return target


def _open_url(url: str) -> BinaryIO:
    request = urllib.request.Request(url, headers={"User-Agent": "efficiency-lab"})
    return urllib.request.urlopen(request, timeout=30)
