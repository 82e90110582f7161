"""Unusual and malformed user files: each loads exactly or is refused with the lab's own data error.

The files are in tests/data/bad/ (tiny); a big one is made here at runtime. The Hypothesis test feeds
the parser a few hundred generated files: nothing but DataError may escape.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from efficiency.data.userfile import read_user_file
from efficiency.errors import DataError

BAD = Path(__file__).parent / "bad"
TWO_CLASSES = ["neg", "pos"]

# file -> (rows kept, label names, empty rows dropped) when it loads
LOADS = {
    "utf8_bom.csv": (10, TWO_CLASSES, 0),
    "duplicate_columns.csv": (10, TWO_CLASSES, 0),
    "quoted_newlines.csv": (10, TWO_CLASSES, 0),
    "cr_only.csv": (10, TWO_CLASSES, 0),
    "semicolon.csv": (10, TWO_CLASSES, 0),
    "tab_separated.csv": (10, TWO_CLASSES, 0),
    "short_rows.csv": (10, TWO_CLASSES, 2),
    "empty_texts.csv": (10, TWO_CLASSES, 2),
    "formula_texts.csv": (10, TWO_CLASSES, 0),
    "stray_spaces_labels.csv": (10, TWO_CLASSES, 0),
    "float_labels.csv": (10, ["1.0", "2.0"], 0),
    "numbers_only_labels.tsv": (10, ["0", "1"], 0),
}
# file -> the phrase its plain message holds
REFUSED = {
    "utf16_bom.csv": "is UTF-16 text: save it as UTF-8",
    "cp1252.csv": "is not UTF-8 text (byte 14",
    "nul_bytes.csv": "holds NUL bytes",
    "png_named.csv": "is not UTF-8 text",
    "gzip_named.csv": "is a compressed file",
    "json_named.csv": "looks like JSON",
    "empty.csv": "is empty",
    "header_only.csv": "no row with both a text and a label",
    "single_column.csv": "has a single column",
    "ragged_rows.csv": "Expected 2 fields in line 12, saw 3",
    "unclosed_quote.csv": "could not be read as a table",
    "one_class.csv": "holds a single class ('pos')",
    "one_row_per_class.csv": "'class 0' (1), 'class 1' (1), 'class 2' (1), 'class 3' (1), 'class 4' (1) and 5 more",
    "thousands_of_classes.csv": "holds 2,000 different labels; the lab takes at most 100 classes",
}


def all_texts(dataset) -> list[str]:
    return dataset.train.texts + dataset.valid.texts + dataset.test.texts


def test_every_bad_file_is_in_the_table():
    assert sorted(p.name for p in BAD.iterdir()) == sorted([*LOADS, *REFUSED])
    assert len(LOADS) + len(REFUSED) >= 20


@pytest.mark.parametrize("name", sorted(LOADS))
def test_an_unusual_file_loads_exactly(name):
    rows, labels, dropped = LOADS[name]
    dataset = read_user_file(BAD / name, None, None, seed=0)
    assert len(all_texts(dataset)) == rows
    assert dataset.label_names == labels
    assert dataset.info["dropped_empty_rows"] == str(dropped)


def test_cells_are_kept_as_written():
    formulas = all_texts(read_user_file(BAD / "formula_texts.csv", None, None, seed=0))
    assert {'=HYPERLINK("http://x";"click")', "+1+1", "-2", "@SUM(A1)", "=1"} <= set(formulas)
    quoted = all_texts(read_user_file(BAD / "quoted_newlines.csv", None, None, seed=0))
    assert all(text.startswith("line one") and text.endswith("\nline two") for text in quoted)
    bom = read_user_file(BAD / "utf8_bom.csv", None, None, seed=0)
    assert "good day 0" in all_texts(bom), "the BOM is not part of the first column's name"


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_a_malformed_file_is_refused_in_words(name):
    with pytest.raises(DataError) as refused:
        read_user_file(BAD / name, None, None, seed=0)
    message = str(refused.value)
    assert REFUSED[name] in message and "Traceback" not in message


def test_a_two_megabyte_text_loads_whole(tmp_path):
    long_text = "kata " * 400_000  # 2 MB in one cell
    rows = [f"{long_text},pos"] + [f"good {i},pos" for i in range(5)] + [f"bad {i},neg" for i in range(6)]
    path = tmp_path / "long.csv"
    path.write_text("text,label\n" + "\n".join(rows) + "\n", encoding="utf-8")
    texts = all_texts(read_user_file(path, None, None, seed=0))
    assert len(texts) == 12 and max(map(len, texts)) == len(long_text.strip())


def test_many_small_classes_are_split_with_every_class_in_every_split(tmp_path):
    path = tmp_path / "sixty.csv"  # 10% of 300 rows is 30, fewer than the 60 classes
    path.write_text("text,label\n" + "".join(f"t {c} {i},c{c}\n" for c in range(60) for i in range(5)))
    dataset = read_user_file(path, None, None, seed=0)
    assert [len(set(split.labels)) for split in (dataset.train, dataset.valid, dataset.test)] == [60, 60, 60]


# --- generated files --------------------------------------------------------------------------------
CELL = st.text(alphabet=st.sampled_from("ab é,;\t\"'\n\r=+-@\x00\\ü😀"), max_size=12)
LABEL = st.one_of(st.sampled_from(["pos", "neg", " pos", "neu ", "1.0", ""]), CELL)
HEADER = st.sampled_from(["text,label", "text;label", "text\tlabel", "label,text,split", "text,text", "x,y", ""])


@st.composite
def table_bytes(draw: st.DrawFn) -> bytes:
    """Text that is nearly a CSV: a header, then rows of odd cells, separators and line ends, in some encoding."""
    separator = draw(st.sampled_from([",", ";", "\t"]))
    end = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    rows = draw(st.lists(st.tuples(CELL, LABEL), max_size=40))
    body = draw(HEADER) + end + end.join(f"{text}{separator}{label}" for text, label in rows)
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "latin-1"]))
    return body.encode(encoding, errors="replace")


@st.composite
def class_tables(draw: st.DrawFn) -> bytes:
    """A well-formed file of k classes with m rows each (odd cells quoted): the sizes that strain the split."""
    classes, per_class = draw(st.integers(2, 30)), draw(st.integers(1, 8))
    texts = draw(st.lists(CELL, min_size=classes * per_class, max_size=classes * per_class))
    rows = [f'"row {i} {text.replace(chr(34), chr(34) * 2)}",c{i % classes}' for i, text in enumerate(texts)]
    return ("text,label\n" + "\n".join(rows) + "\n").encode("utf-8")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    content=st.one_of(table_bytes(), class_tables(), st.binary(max_size=300)),
    suffix=st.sampled_from([".csv", ".tsv", ".txt"]),
)
def test_nothing_but_a_data_error_escapes_the_parser(content, suffix):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"upload{suffix}"
        path.write_bytes(content)
        try:
            dataset = read_user_file(path, None, None, seed=0)
        except DataError as refused:
            assert str(refused) and "Traceback" not in str(refused)
        else:
            assert len(dataset.label_names) >= 2 and len(dataset.train) and len(dataset.valid) and len(dataset.test)
