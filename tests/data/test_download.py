import dataclasses
import io
from typing import ClassVar

import pytest

from efficiency import paths
from efficiency.config import DataConfig
from efficiency.data import load_dataset, resolve
from efficiency.data.catalog import DatasetRef, all_names
from efficiency.data.download import download, expected_sha256, planned_files, sha256_of
from efficiency.errors import DataError
from tests.conftest import SHARED_DATA, needs_shared_data


class FakeResponse(io.BytesIO):
    headers: ClassVar[dict[str, str]] = {"Content-Length": "0"}


def test_upstream_names_are_mapped_to_the_shipped_layout():
    pairs = dict((local, url) for url, local in planned_files(resolve("mahasent-mr")))
    assert pairs["train.csv"].endswith("MahaSent_MR_Train.csv")
    assert pairs["valid.csv"].endswith("MahaSent_MR_Val.csv")
    assert pairs["test.csv"].endswith("MahaSent_MR_Test.csv")
    news = [local for _, local in planned_files(resolve("masakhanews/yor"))]
    assert news == ["train.tsv", "dev.tsv", "test.tsv", "labels.txt"]
    assert all("/yor/" in url for url, _ in planned_files(resolve("masakhanews/yor")))


@needs_shared_data
def test_download_writes_files_and_the_loader_reads_them(tmp_path):
    ref = resolve("mahasent-mr")
    upstream = {url: SHARED_DATA / "mahasent-mr" / local for url, local in planned_files(ref)}
    seen = []

    def opener(url):
        seen.append(url)
        return FakeResponse(upstream[url].read_bytes())

    folder = download(ref, paths.cache_dir() / "data", opener=opener, progress=False)
    assert sorted(p.name for p in folder.iterdir()) == ["test.csv", "train.csv", "valid.csv"]
    assert len(seen) == 3

    # the loader finds it in the cache when the data folder lacks it
    ds = load_dataset(DataConfig(dataset="mahasent-mr", data_dir=str(tmp_path / "empty")), seed=0)
    assert len(ds.train) == 12_000 and set(ds.train.labels) == {0, 1, 2}


@needs_shared_data
def test_the_catalog_checksums_are_those_of_the_public_files():
    checked = 0
    for name in all_names():
        ref = resolve(name)
        for _url, local in planned_files(ref):
            path = SHARED_DATA / ref.family.relative_dir(ref.language) / local
            assert expected_sha256(ref, local) == sha256_of(path), path
            checked += 1
    assert checked == 79


def served(files: dict[str, bytes], headers: dict[str, str] | None = None):
    """An opener serving `files` by their upstream name."""

    def opener(url):
        response = FakeResponse(files[url.rsplit("/", 1)[1]])
        response.headers = headers or {}
        return response

    return opener


def nothing_left(root) -> bool:
    return not [p for p in root.rglob("*") if p.is_file()] and not (root / "mahasent-mr").exists()


def test_a_file_that_is_not_the_known_one_is_refused_and_nothing_is_kept(tmp_path):
    files = {name: b"text,label\nx,1\n" for name in ("MahaSent_MR_Train.csv", "MahaSent_MR_Val.csv",
                                                    "MahaSent_MR_Test.csv")}  # fmt: skip
    with pytest.raises(DataError, match="sha256 differs"):
        download(resolve("mahasent-mr"), tmp_path, opener=served(files), progress=False)
    assert nothing_left(tmp_path)


@pytest.mark.parametrize("headers", [{"Content-Length": str(2 * 1024 * 1024)}, {}])
def test_a_file_above_the_size_cap_is_refused_with_or_without_its_length_header(tmp_path, headers):
    files = {"MahaSent_MR_Train.csv": b"x" * (2 * 1024 * 1024)}
    with pytest.raises(DataError, match="larger than 1 MiB"):
        download(resolve("mahasent-mr"), tmp_path, opener=served(files, headers), progress=False,
                 max_file_bytes=1024 * 1024)  # fmt: skip
    assert nothing_left(tmp_path)


def test_a_failure_after_some_files_arrived_keeps_none_of_them(tmp_path):
    known = resolve("nusax-senti/javanese")
    ref = DatasetRef(dataclasses.replace(known.family, sha256={}), known.language)  # no checksum: none is asked for
    files = {"train.csv": b"id,text,label\n"}  # the second file is missing: a KeyError stands for a 404
    with pytest.raises(KeyError):
        download(ref, tmp_path, opener=served(files), progress=False)
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]
    assert not (tmp_path / "nusax-senti").exists()


def test_a_failed_download_leaves_no_half_written_file(tmp_path):
    class Broken(FakeResponse):
        def read(self, *_):
            raise OSError("connection reset")

    with pytest.raises(OSError):
        download(resolve("nusax-senti/javanese"), tmp_path, opener=lambda url: Broken(b""), progress=False)
    assert not [p for p in tmp_path.rglob("*") if p.is_file()], "no temporary file is left behind"
