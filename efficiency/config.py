"""One typed config for a whole run: built by the CLI and the app, stored with every result.

Every field carries a help text (shown as CLI help and as the app's tooltip) and, where it
is exposed on the command line, its flag. `RunConfig.validate()` refuses an impossible
setting of its own with one message that says what to change (`efficiency.runs.checks` adds the
techniques and the device, where both are known). `None` in an optional field means
"the recommended default for this model and dataset"; `runs.recipe.prepare` resolves it and stores
the resolved value, so a stored config always reproduces its run.
"""

from __future__ import annotations

import dataclasses
import json
import re
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from efficiency.errors import ConfigError
from efficiency.fields import beyond_limit, setting, typed
from efficiency.model_names import MINILM

CONFIG_VERSION = 1
DEVICE_PATTERN = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")
# Upper limits: far above any useful run on a classroom machine, low enough that a typo fails here, not later.
MAX_BATCH_SIZE = 1024
MAX_EVAL_BATCH_SIZE = 4096
MAX_SEED = 2**32 - 1  # NumPy's and scikit-learn's seeds end here
MAX_FILE_NAME_CHARS = 255  # one file or folder name, on Linux, macOS and Windows alike
STORED_NAME_CHARS = 300  # the run store's model and dataset columns (efficiency/store_schema.py)


@dataclass
class ModelConfig:
    name: str = setting(
        MINILM,
        flag="--model",
        at_most=STORED_NAME_CHARS,  # and each part of it, as a path, within the file-name limit of 255
        help="Model to fine-tune: 'minilm' (all-MiniLM-L6-v2, 22M parameters, works offline), "
        "'tiny' (a randomly initialised 2-layer BERT, for tests and instant demos), "
        "'tfidf-logreg' (TF-IDF + logistic regression, the classical baseline), "
        "a Hugging Face Hub id such as 'bert-base-multilingual-cased', or a local model folder.",
    )


@dataclass
class DataConfig:
    dataset: str = setting(
        "nusax-senti/javanese",
        flag="--dataset",
        at_most=STORED_NAME_CHARS,
        help="Dataset as FAMILY/LANGUAGE ('nusax-senti/javanese', 'masakhanews/yor'), "
        "'mahasent-mr', or the path of your own CSV/TSV file.",
    )
    data_dir: str | None = setting(
        None,
        flag="--data-dir",
        at_most=4096,
        help="Folder holding the datasets. Default: $EFFLAB_DATA_DIR, else ../shared/data beside "
        "the repository, else the user cache (downloaded there when a network is available).",
    )
    limit_train: int | None = setting(
        None,
        flag="--limit-train",
        at_most=10_000_000,
        help="Use at most this many training examples, a stratified random subsample (seeded).",
    )
    max_length: int | None = setting(
        None,
        flag="--max-length",
        help="Truncate each text to this many tokens. Default: 128 for sentences, 256 for news articles.",
    )
    test_dataset: str | None = setting(
        None,
        flag="--test-dataset",
        at_most=STORED_NAME_CHARS,
        help="Test on another dataset's test split instead (cross-lingual transfer: train on "
        "nusax-senti/indonesian, test on nusax-senti/javanese). Its labels must have the same names.",
    )
    text_column: str | None = setting(
        None, flag="--text-column", at_most=200, help="Your own file only: the column that holds the text."
    )
    label_column: str | None = setting(
        None, flag="--label-column", at_most=200, help="Your own file only: the column that holds the label."
    )


@dataclass
class TrainConfig:
    epochs: int = setting(
        3,
        flag="--epochs",
        at_most=1000,
        help="Passes over the training set. The best epoch on the validation set is kept.",
    )
    batch_size: int = setting(
        16, flag="--batch-size", at_most=MAX_BATCH_SIZE, help="Training examples per optimiser step."
    )
    measure_batch_size: bool = setting(
        False,
        flag="--measure-batch-size",
        help="Before training, time a training step at batch sizes 16 to 512 on this device and train with the "
        "smallest one within 90% of the fastest, among those that leave 32 steps per epoch (the choice replaces "
        "batch_size in the stored settings). A small model on a GPU trains several times faster at a large batch; "
        "on a CPU the timing itself takes a while, and the learning rate stays as it is.",
    )
    learning_rate: float | None = setting(
        None,
        flag="--learning-rate",
        help="Peak learning rate of AdamW. Default: the rate measured to work for this model "
        "(2e-4 for full fine-tuning of MiniLM).",
    )
    warmup_ratio: float = setting(
        0.1,
        flag="--warmup-ratio",
        help="Share of the steps over which the learning rate rises linearly from 0 (then it decays to 0).",
    )
    dropout: float | None = setting(
        0.0,
        flag="--dropout",
        help="Dropout for every dropout layer of the model during training; 'none' keeps the model's own "
        "(0.1 for MiniLM). Off by default: on this 2-core CPU it added about 16 percent to the training time "
        "(87 s against 75 s) and, measured on NusaX-senti, bought no accuracy in 3 epochs.",
    )
    weight_decay: float = setting(0.01, flag="--weight-decay", at_most=1.0, help="AdamW weight decay.")
    max_grad_norm: float = setting(
        1.0, flag="--max-grad-norm", at_most=1000.0, help="Clip the gradient norm to this value (0 turns clipping off)."
    )
    length_buckets: bool = setting(
        True,
        flag="--length-buckets",
        help="Group examples of similar length into a batch, so padding wastes little compute.",
    )
    eval_batch_size: int = setting(
        64, flag="--eval-batch-size", at_most=MAX_EVAL_BATCH_SIZE, help="Examples per batch when evaluating."
    )
    time_limit_s: float | None = setting(
        None,
        flag="--time-limit-s",
        at_most=7 * 24 * 3600.0,  # a week
        help="Stop after this many seconds of training and validation (the best model so far is still tested).",
    )


@dataclass
class MeasureConfig:
    energy: bool = setting(
        True, flag="--measure-energy", help="Track energy with CodeCarbon (and the GPU's own counter on CUDA)."
    )
    flops: bool = setting(
        True, flag="--measure-flops", help="Count the FLOPs of the operations run (torch.utils.flop_counter)."
    )
    latency: bool = setting(
        True, flag="--measure-latency", help="Time inference per example at batch sizes 1 and 32 after training."
    )
    country: str | None = setting(
        None,
        flag="--country",
        at_most=64,
        help="ISO 3166 country code (e.g. 'FR', 'IND') whose grid carbon intensity prices the energy. "
        "Default: $EFFLAB_COUNTRY, else the world average.",
    )
    latency_repeats: int = setting(
        3, flag="--latency-repeats", at_most=100, help="Timed repeats per batch size (the median is reported)."
    )


@dataclass
class TechniqueSpec:
    """One efficiency technique switched on, with its settings (see `efficiency techniques list`)."""

    name: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class RunConfig:
    name: str = setting("", flag="--name", at_most=200, help="A short name for the run, shown in tables and charts.")
    note: str = setting("", flag="--note", at_most=2000, help="A free note stored with the run.")
    model: ModelConfig = setting(factory=ModelConfig, help="The model.")
    data: DataConfig = setting(factory=DataConfig, help="The dataset.")
    train: TrainConfig = setting(factory=TrainConfig, help="Training settings.")
    measure: MeasureConfig = setting(factory=MeasureConfig, help="What to measure.")
    techniques: list[TechniqueSpec] = setting(
        factory=list, help="Efficiency techniques switched on, applied in a fixed order."
    )
    seed: int = setting(
        42, flag="--seed", at_most=MAX_SEED, help="Seed for sampling, initialisation, shuffling and dropout."
    )
    device: str = setting(
        "auto", flag="--device", at_most=20, help="'auto' (cuda, then mps, then cpu), 'cpu', 'cuda', 'cuda:1' or 'mps'."
    )
    save_model: bool = setting(
        False,
        flag="--save-model",
        help="Keep the trained weights (needed to try sentences later or to use the run as a distillation teacher).",
    )
    version: int = CONFIG_VERSION

    # --- validation -------------------------------------------------------------------------
    def validate(self) -> RunConfig:
        """Raise ConfigError naming the first impossible setting; return self when all is well.

        The techniques are checked against each other and the device by `efficiency.runs.checks`.
        """
        t, d, m = self.train, self.data, self.measure
        checks: list[tuple[bool, str]] = [
            (
                bool(self.model.name.strip()),
                "The model name is empty: use --model minilm, tiny, tfidf-logreg or a hub id.",
            ),
            (bool(d.dataset.strip()), "The dataset is empty: use e.g. --dataset nusax-senti/javanese."),
            (t.epochs >= 1, f"epochs is {t.epochs}: train for at least 1 epoch."),
            (t.epochs <= 1000, f"epochs is {t.epochs}: at most 1000 epochs."),
            (t.batch_size >= 1, f"batch_size is {t.batch_size}: use at least 1."),
            (t.eval_batch_size >= 1, f"eval_batch_size is {t.eval_batch_size}: use at least 1."),
            (
                t.learning_rate is None or 0 < t.learning_rate < 1,
                f"learning_rate is {t.learning_rate}: use a positive rate below 1, such as 2e-4.",
            ),
            (0 <= t.warmup_ratio < 1, f"warmup_ratio is {t.warmup_ratio}: use a share from 0 up to (not including) 1."),
            (
                t.dropout is None or 0 <= t.dropout < 1,
                f"dropout is {t.dropout}: use a probability from 0 up to (not including) 1.",
            ),
            (t.weight_decay >= 0, f"weight_decay is {t.weight_decay}: use 0 or more."),
            (t.max_grad_norm >= 0, f"max_grad_norm is {t.max_grad_norm}: use 0 (off) or a positive norm."),
            (
                t.time_limit_s is None or t.time_limit_s > 0,
                f"time_limit_s is {t.time_limit_s}: use a positive number of seconds, or leave it unset.",
            ),
            (
                d.limit_train is None or d.limit_train >= 2,
                f"limit_train is {d.limit_train}: keep at least a few examples per class, or leave it unset.",
            ),
            (
                d.max_length is None or 8 <= d.max_length <= 8192,
                f"max_length is {d.max_length}: use between 8 and 8192 tokens.",
            ),
            (m.latency_repeats >= 1, f"latency_repeats is {m.latency_repeats}: use at least 1."),
            (self.seed >= 0, f"seed is {self.seed}: use 0 or more."),
            (
                bool(DEVICE_PATTERN.match(self.device)),
                f"device '{self.device}' is not known: use auto, cpu, cuda, cuda:N or mps.",
            ),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(message)
        longest = max((len(part) for part in Path(self.model.name).parts), default=0)
        if longest > MAX_FILE_NAME_CHARS:
            raise ConfigError(
                f"The model name has a part {longest} characters long; a file or folder name has at most "
                f"{MAX_FILE_NAME_CHARS}. Check the Hub id or the folder."
            )
        for settings, where in ((self.model, "model "), (d, ""), (t, ""), (m, ""), (self, "")):
            if message := beyond_limit(settings, where):
                raise ConfigError(message)
        if m.country is not None:
            from efficiency.measure.carbon import normalise_country

            m.country = normalise_country(m.country)
        seen: set[str] = set()
        for spec in self.techniques:
            if spec.name in seen:
                raise ConfigError(f"Technique '{spec.name}' is switched on twice: keep one.")
            seen.add(spec.name)
        return self

    # --- JSON round trip --------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, sort_keys=False)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> RunConfig:
        return _build(cls, raw, path="config")

    @classmethod
    def from_json(cls, text: str) -> RunConfig:
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"The config is not valid JSON ({exc.msg} at line {exc.lineno}).") from exc
        if not isinstance(raw, dict):
            raise ConfigError("The config must be a JSON object with sections model, data, train, measure.")
        return cls.from_dict(raw)


SECTIONS: dict[str, type] = {
    "model": ModelConfig,
    "data": DataConfig,
    "train": TrainConfig,
    "measure": MeasureConfig,
}


def _build(cls: type, raw: dict[str, Any], path: str) -> Any:
    """Rebuild a (nested) config dataclass from a dict, refusing unknown keys by name."""
    if not isinstance(raw, dict):
        raise ConfigError(f"'{path}' must be an object, not {type(raw).__name__}.")
    known = {f.name: f for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise ConfigError(f"Unknown setting(s) in '{path}': {', '.join(unknown)}. Known: {', '.join(known)}.")
    kwargs: dict[str, Any] = {}
    for name, value in raw.items():
        if name in SECTIONS and cls is RunConfig:
            kwargs[name] = _build(SECTIONS[name], value, f"{path}.{name}")
        elif name == "techniques" and cls is RunConfig:
            if not isinstance(value, list):
                raise ConfigError("'techniques' must be a list of {name, params} objects.")
            kwargs[name] = [_build(TechniqueSpec, item, f"{path}.techniques[{i}]") for i, item in enumerate(value)]
        else:
            kwargs[name] = typed(value, hints[name], f"'{path}.{name}'")
    return cls(**kwargs)


def parse_technique(text: str) -> TechniqueSpec:
    """Parse the CLI form NAME[:key=value,...]; list values are joined with '+'."""
    name, _, rest = text.partition(":")
    name = name.strip()
    if not name:
        raise ConfigError(f"--technique '{text}' has no name: use NAME or NAME:key=value,...")
    params: dict[str, Any] = {}
    for item in filter(None, (part.strip() for part in rest.split(","))):
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--technique '{text}': '{item}' is not key=value.")
        params[key.strip()] = _parse_value(value.strip())
    return TechniqueSpec(name=name, params=params)


def _parse_value(value: str) -> Any:
    if "+" in value:
        return [_parse_value(v) for v in value.split("+") if v]
    lowered = value.lower()
    if lowered in {"true", "false"}:
        return lowered == "true"
    for cast in (int, float):
        try:
            return cast(value)
        except ValueError:
            pass
    return value
