"""The catalog of shipped datasets: what each is, its licence, citation and public source."""

from __future__ import annotations

from dataclasses import dataclass, field

from efficiency.data.checksums import SHA256
from efficiency.errors import DataError


@dataclass(frozen=True)
class SplitFile:
    """One split as laid out in the data folder, and where upstream keeps it."""

    split: str  # train | valid | test
    local_name: str  # file name in the data folder
    upstream_name: str  # file name at the public source


@dataclass(frozen=True)
class DatasetFamily:
    """A dataset, possibly in several languages, all with one layout."""

    family: str
    title: str
    task: str
    languages: tuple[str, ...]  # empty: a single-language dataset named by its family
    labels: tuple[str, ...] | None  # None: read from labels.txt per language
    text_columns: tuple[str, ...]  # joined with a newline when several
    label_column: str
    separator: str
    splits: tuple[SplitFile, ...]
    extra_files: tuple[str, ...]  # fetched beside the splits (labels.txt)
    default_max_length: int
    license: str
    citation: str
    source: str  # human-readable public source
    base_url: str  # raw-file URL; '{language}' is filled in
    note: str = ""
    label_map: dict[str, str] = field(default_factory=dict)  # raw label -> name
    # sha256 of each file by its path below the family's folder ('javanese/train.csv'); checked on download
    sha256: dict[str, str] = field(default_factory=dict)

    def dataset_name(self, language: str | None) -> str:
        return f"{self.family}/{language}" if language else self.family

    def relative_dir(self, language: str | None) -> str:
        return f"{self.family}/{language}" if language else self.family


CATALOG: dict[str, DatasetFamily] = {
    "nusax-senti": DatasetFamily(
        family="nusax-senti",
        title="NusaX-senti",
        task="3-class sentiment (negative, neutral, positive)",
        languages=(
            "acehnese",
            "balinese",
            "banjarese",
            "buginese",
            "english",
            "indonesian",
            "javanese",
            "madurese",
            "minangkabau",
            "ngaju",
            "sundanese",
            "toba_batak",
        ),
        labels=("negative", "neutral", "positive"),
        text_columns=("text",),
        label_column="label",
        separator=",",
        splits=(
            SplitFile("train", "train.csv", "train.csv"),
            SplitFile("valid", "valid.csv", "valid.csv"),
            SplitFile("test", "test.csv", "test.csv"),
        ),
        extra_files=(),
        default_max_length=128,
        license="CC BY-SA 4.0",
        citation="Winata et al. (2023). NusaX: Multilingual Parallel Sentiment Dataset for 10 Indonesian "
        "Local Languages. EACL 2023.",
        source="github.com/IndoNLP/nusax, datasets/sentiment/; Hugging Face indonlp/NusaX-senti",
        base_url="https://raw.githubusercontent.com/IndoNLP/nusax/main/datasets/sentiment/{language}/",
        note="500/100/400 sentences per language; the 12 languages are translations of the same sentences.",
        sha256=SHA256["nusax-senti"],
    ),
    "masakhanews": DatasetFamily(
        family="masakhanews",
        title="MasakhaNEWS",
        task="news topic classification (4 to 7 classes)",
        languages=("ibo", "lin", "lug", "orm", "pcm", "run", "sna", "som", "xho", "yor"),
        labels=None,
        text_columns=("headline", "text"),
        label_column="category",
        separator="\t",
        splits=(
            SplitFile("train", "train.tsv", "train.tsv"),
            SplitFile("valid", "dev.tsv", "dev.tsv"),
            SplitFile("test", "test.tsv", "test.tsv"),
        ),
        extra_files=("labels.txt",),
        default_max_length=256,
        license="AFL 3.0",
        citation="Adelani et al. (2023). MasakhaNEWS: News Topic Classification for African languages. "
        "IJCNLP-AACL 2023.",
        source="github.com/masakhane-io/masakhane-news, data/; Hugging Face masakhane/masakhanews",
        base_url="https://raw.githubusercontent.com/masakhane-io/masakhane-news/main/data/{language}/",
        note="Articles are long (median 950 to 3,300 characters): truncation length drives the compute.",
        sha256=SHA256["masakhanews"],
    ),
    "mahasent-mr": DatasetFamily(
        family="mahasent-mr",
        title="L3Cube MahaSent-MR",
        task="3-class sentiment of Marathi movie-review sentences",
        languages=(),
        labels=("negative", "neutral", "positive"),
        text_columns=("marathi_sentence",),
        label_column="label",
        separator=",",
        splits=(
            SplitFile("train", "train.csv", "MahaSent_MR_Train.csv"),
            SplitFile("valid", "valid.csv", "MahaSent_MR_Val.csv"),
            SplitFile("test", "test.csv", "MahaSent_MR_Test.csv"),
        ),
        extra_files=(),
        default_max_length=128,
        license="CC BY-NC-SA 4.0 (research and education only)",
        citation="Pingle et al. (2023). L3Cube-MahaSent-MD: A Multi-domain Marathi Sentiment Analysis "
        "Dataset and Transformer Models. PACLIC 2023.",
        source="github.com/l3cube-pune/MarathiNLP, L3Cube-MahaSent-MD/MahaSent_MR/",
        base_url="https://raw.githubusercontent.com/l3cube-pune/MarathiNLP/main/L3Cube-MahaSent-MD/MahaSent_MR/",
        note="12,000/1,500/1,500, balanced. The train file is sorted by label: subsample, never take the first N.",
        label_map={"-1": "negative", "0": "neutral", "1": "positive"},
        sha256=SHA256["mahasent-mr"],
    ),
}


@dataclass(frozen=True)
class DatasetRef:
    """A catalog dataset resolved to one language."""

    family: DatasetFamily
    language: str | None

    @property
    def name(self) -> str:
        return self.family.dataset_name(self.language)


def resolve(name: str) -> DatasetRef:
    """Turn 'nusax-senti/javanese' or 'mahasent-mr' into a catalog entry, or explain what exists."""
    family_name, _, language = name.strip().strip("/").partition("/")
    family = CATALOG.get(family_name.lower())
    if family is None:
        raise DataError(
            f"Unknown dataset '{name}'. Known: {', '.join(all_names()[:4])}, ... "
            "(see `python -m efficiency data list`), or give the path of your own CSV/TSV file."
        )
    language = language.lower() or None
    if family.languages:
        if language is None:
            raise DataError(
                f"'{family.family}' has several languages: name one, e.g. '{family.family}/{family.languages[0]}'. "
                f"Languages: {', '.join(family.languages)}."
            )
        if language not in family.languages:
            raise DataError(
                f"'{family.family}' has no language '{language}'. Languages: {', '.join(family.languages)}."
            )
    elif language:
        raise DataError(f"'{family.family}' has a single language: name it as '{family.family}'.")
    return DatasetRef(family, language)


def all_names() -> list[str]:
    """Every dataset name the catalog knows, e.g. 'nusax-senti/javanese'."""
    names: list[str] = []
    for family in CATALOG.values():
        if family.languages:
            names.extend(family.dataset_name(lang) for lang in family.languages)
        else:
            names.append(family.family)
    return names
