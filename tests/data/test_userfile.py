import io
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
    with pytest.raises(DataError, match=r"MiB; the limit is 0\.0001 MiB"):
        read_user_file(sentiment_csv, None, None, seed=0)


def test_empty_rows_are_dropped_and_counted(tmp_path, sentiment_csv):
    text = sentiment_csv.read_text() + ',pos\n"  ",neg\n'
    ds = read_user_file(write(tmp_path, "gaps.csv", text), None, None, seed=0)
    assert ds.info["dropped_empty_rows"] == "2"


class ChunkCounter(io.BytesIO):
    """An upload as Streamlit hands it over (a BytesIO), counting how much one read asks for at most."""

    largest_read = 0

    def read(self, size: int | None = -1) -> bytes:
        self.largest_read = max(self.largest_read, size if size and size > 0 else len(self.getbuffer()))
        return super().read(size)


def test_an_upload_is_copied_in_chunks_and_named_by_its_content(tmp_path, sentiment_csv):
    content = sentiment_csv.read_bytes()
    upload = ChunkCounter(content)
    saved = userfile.save_upload(upload, "../../my file?.csv", tmp_path)
    assert saved.parent == tmp_path and saved.read_bytes() == content
    assert saved.name.endswith("-my_file_.csv") and len(saved.name.split("-")[0]) == 12
    assert upload.largest_read == userfile.CHUNK_BYTES, "read as a stream, never whole"
    assert userfile.save_upload(io.BytesIO(content), "my file?.csv", tmp_path) == saved, "kept once"
    assert sorted(p.name for p in tmp_path.iterdir()) == [saved.name, "mine.csv"]


def test_an_upload_over_the_limit_is_refused_in_mib_and_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(userfile, "MAX_FILE_MIB", 1)
    folder = tmp_path / "uploads"
    folder.mkdir()
    with pytest.raises(DataError, match=r"big\.csv is larger than 1 MiB"):
        userfile.save_upload(io.BytesIO(b"x" * (2**20 + 1)), "big.csv", folder)
    assert list(folder.iterdir()) == []


def test_the_header_is_read_from_the_head_of_the_file(tmp_path):
    assert userfile.read_header(write(tmp_path, "semi.csv", "review;stars\nok;1\n")) == ["review", "stars"]
    with pytest.raises(DataError, match="is UTF-16"):
        userfile.read_header(write(tmp_path, "wide.csv", "text,label\n".encode("utf-16")))


def test_the_apps_upload_limit_is_the_librarys_and_no_traceback_reaches_the_browser():
    import tomllib

    from efficiency import paths

    settings = tomllib.loads((paths.REPO_ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert settings["server"]["maxUploadSize"] == userfile.MAX_FILE_MIB == 50  # Streamlit reads it as MiB
    assert settings["client"]["showErrorDetails"] == "none"
