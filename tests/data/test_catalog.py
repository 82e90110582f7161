import pytest

from efficiency.data import all_names, list_datasets, resolve
from efficiency.errors import DataError
from tests.conftest import needs_shared_data


def test_catalog_knows_all_shipped_datasets():
    names = all_names()
    assert len([n for n in names if n.startswith("nusax-senti/")]) == 12
    assert len([n for n in names if n.startswith("masakhanews/")]) == 10
    assert "mahasent-mr" in names


def test_every_entry_has_licence_citation_and_source():
    for name in all_names():
        family = resolve(name).family
        assert family.license and family.citation and family.source and family.base_url.startswith("https://")


@pytest.mark.parametrize(
    ("name", "phrase"),
    [
        ("nusax-senti", "name one"),
        ("nusax-senti/klingon", "no language 'klingon'"),
        ("mahasent-mr/marathi", "single language"),
        ("imdb", "Unknown dataset"),
    ],
)
def test_bad_names_explain_what_exists(name, phrase):
    with pytest.raises(DataError, match=phrase):
        resolve(name)


@needs_shared_data
def test_list_finds_the_shared_folder():
    rows = {r["name"]: r for r in list_datasets()}
    assert rows["nusax-senti/javanese"]["present"]
    assert rows["mahasent-mr"]["folder"].endswith("mahasent-mr")
