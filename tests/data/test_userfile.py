from pathlib import Path

import pytest

from efficiency.data import userfile
from efficiency.data.userfile import read_user_file
from efficiency.errors import DataError


def test_valid_file_is_split_stratified(sentiment_csv):
    ds = read_user_file(sentiment_csv, None, None, seed=0)
    assert ds.label_names == ["neg", "neu", "pos"]
    assert len(ds.train) + len(ds.valid) + len(ds.test) == 36
    assert set(ds.test.labels) == {0, 1, 2}


def test_split_column_is_respected(tmp_path):
    rows = ["text\tlabel\tsplit"]
    for split, n in (("train", 10), ("dev", 5), ("test", 5)):
        rows += [f"good {split} {i}\tpos\t{split}" for i in range(n)] + [
            f"bad {split} {i}\tneg\t{split}" for i in range(n)
        ]
    path = tmp_path / "with_split.tsv"
    path.write_text("\n".join(rows), encoding="utf-8")
    ds = read_user_file(path, None, None, seed=0)
    assert (len(ds.train), len(ds.valid), len(ds.test)) == (20, 10, 10)


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


@pytest.mark.parametrize(
    ("name", "content", "phrase"),
    [
        ("latin1.csv", b"text,label\n" + "caf\xe9,pos\n".encode("latin-1") * 20, "not UTF-8"),
        ("one_class.csv", "text,label\n" + "hello,pos\n" * 20, "single class"),
        ("rare.csv", "text,label\n" + "a,pos\n" * 20 + "b,neg\n" * 2, "Too few rows"),
        ("one_column.csv", "just text\n" * 20, "single column"),
        ("empty_rows.csv", "text,label\n" + ",\n" * 20, "no row with both"),
        ("nolabel.csv", "sentence,stars\n" + "a,1\n" * 20, "Which column holds the label"),
        ("empty.csv", "", "is empty"),
    ],
)
def test_malformed_files_get_a_clear_message(tmp_path, name, content, phrase):
    with pytest.raises(DataError, match=phrase):
        read_user_file(write(tmp_path, name, content), None, None, seed=0)


def test_named_column_that_is_missing(sentiment_csv):
    with pytest.raises(DataError, match="no column 'review'"):
        read_user_file(sentiment_csv, "review", None, seed=0)


def test_oversized_file_is_refused(sentiment_csv, monkeypatch):
    monkeypatch.setattr(userfile, "MAX_FILE_MIB", 0.0001)
    with pytest.raises(DataError, match="MiB; the limit is 0.0001 MiB"):
        read_user_file(sentiment_csv, None, None, seed=0)


def test_empty_rows_are_dropped_and_counted(tmp_path, sentiment_csv):
    text = sentiment_csv.read_text() + ',pos\n"  ",neg\n'
    ds = read_user_file(write(tmp_path, "gaps.csv", text), None, None, seed=0)
    assert ds.info["dropped_empty_rows"] == "2"
