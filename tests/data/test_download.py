import io
from typing import ClassVar

import pytest

from efficiency import paths
from efficiency.config import DataConfig
from efficiency.data import load_dataset, resolve
from efficiency.data.download import download, planned_files


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


def test_download_writes_files_and_the_loader_reads_them(tmp_path):
    content = {
        "MahaSent_MR_Train.csv": ",marathi_sentence,label\n"
        + "".join(f"{i},वाक्य {i},{(i % 3) - 1}\n" for i in range(30)),
        "MahaSent_MR_Val.csv": ",marathi_sentence,label\n0,अ,1\n1,ब,0\n2,क,-1\n",
        "MahaSent_MR_Test.csv": ",marathi_sentence,label\n0,अ,1\n1,ब,0\n2,क,-1\n",
    }
    seen = []

    def opener(url):
        seen.append(url)
        return FakeResponse(content[url.rsplit("/", 1)[1]].encode())

    folder = download(resolve("mahasent-mr"), paths.cache_dir() / "data", opener=opener, progress=False)
    assert sorted(p.name for p in folder.iterdir()) == ["test.csv", "train.csv", "valid.csv"]
    assert len(seen) == 3

    # the loader finds it in the cache when the data folder lacks it
    ds = load_dataset(DataConfig(dataset="mahasent-mr", data_dir=str(tmp_path / "empty")), seed=0)
    assert len(ds.train) == 30 and set(ds.train.labels) == {0, 1, 2}


def test_a_failed_download_leaves_no_half_written_file(tmp_path):
    class Broken(FakeResponse):
        def read(self, *_):
            raise OSError("connection reset")

    with pytest.raises(OSError):
        download(resolve("nusax-senti/javanese"), tmp_path, opener=lambda url: Broken(b""), progress=False)
    assert not list((tmp_path / "nusax-senti" / "javanese").glob("*.csv"))
