import json

import pytest

from efficiency.config import RunConfig, TechniqueSpec, parse_technique
from efficiency.errors import ConfigError
from efficiency.runs.checks import checked_device


def test_json_round_trip_keeps_every_field():
    config = RunConfig(name="a", seed=3, techniques=[TechniqueSpec("lora", {"r": 8})])
    config.train.learning_rate = 3e-4
    config.data.limit_train = 50
    again = RunConfig.from_json(config.to_json())
    assert again == config
    assert json.loads(config.to_json())["train"]["learning_rate"] == 3e-4


@pytest.mark.parametrize(
    ("change", "phrase"),
    [
        (lambda c: setattr(c.train, "epochs", 0), "at least 1 epoch"),
        (lambda c: setattr(c.train, "batch_size", 0), "batch_size is 0"),
        (lambda c: setattr(c.train, "learning_rate", -1.0), "positive rate"),
        (lambda c: setattr(c.train, "warmup_ratio", 1.5), "warmup_ratio"),
        (lambda c: setattr(c.train, "dropout", 1.0), "dropout"),
        (lambda c: setattr(c.data, "max_length", 2), "max_length"),
        (lambda c: setattr(c, "device", "tpu"), "device 'tpu'"),
        (lambda c: setattr(c.measure, "country", "Atlantis"), "Unknown country"),
        (lambda c: setattr(c, "techniques", [TechniqueSpec("warp-drive")]), "Unknown technique 'warp-drive'"),
    ],
)
def test_validation_names_the_setting_to_change(change, phrase):
    config = RunConfig()
    change(config)
    with pytest.raises(ConfigError, match=phrase):
        checked_device(config)  # the one check the CLI, the worker and the app share


def test_default_config_is_valid():
    assert RunConfig().validate().model.name == "minilm"


def test_country_codes_are_normalised_to_alpha3():
    config = RunConfig()
    config.measure.country = "fr"
    assert config.validate().measure.country == "FRA"


def test_unknown_keys_are_refused_by_name():
    with pytest.raises(ConfigError, match="epochz"):
        RunConfig.from_dict({"train": {"epochz": 3}})
    with pytest.raises(ConfigError, match="not valid JSON"):
        RunConfig.from_json("{nope")


def test_parse_technique_reads_lists_numbers_and_booleans():
    spec = parse_technique("lora:r=8,alpha=16.5,target_modules=query+value,bias=true")
    assert spec == TechniqueSpec("lora", {"r": 8, "alpha": 16.5, "target_modules": ["query", "value"], "bias": True})
    with pytest.raises(ConfigError, match="key=value"):
        parse_technique("lora:r")


def test_values_of_the_wrong_type_are_refused_by_name():
    with pytest.raises(ConfigError, match=r"config\.train\.epochs' is '3': it must be int"):
        RunConfig.from_dict({"train": {"epochs": "3"}})
    assert RunConfig.from_dict({"train": {"learning_rate": 1}}).train.learning_rate == 1.0
    assert RunConfig.from_dict({"train": {"dropout": None}}).train.dropout is None


def test_technique_params_survive_the_round_trip():
    config = RunConfig.from_dict({"techniques": [{"name": "filter", "params": {"method": "multistage"}}]})
    assert config.techniques[0].params == {"method": "multistage"}
    with pytest.raises(ConfigError, match="must be an object"):
        RunConfig.from_dict({"techniques": [{"name": "filter", "params": "method=multistage"}]})


@pytest.mark.parametrize(
    ("section", "name", "value", "message"),
    [
        ("train", "batch_size", 100_000, "batch_size is 100,000: the limit is 1,024."),
        ("train", "eval_batch_size", 10**9, "eval_batch_size is 1,000,000,000: the limit is 4,096."),
        ("measure", "latency_repeats", 10_000, "latency_repeats is 10,000: the limit is 100."),
        ("train", "time_limit_s", 1e9, "time_limit_s is 1,000,000,000.0: the limit is 604,800.0."),
        ("train", "weight_decay", 5.0, "weight_decay is 5.0: the limit is 1.0."),
        ("data", "limit_train", 10**12, "limit_train is 1,000,000,000,000: the limit is 10,000,000."),
        (None, "seed", 2**40, "seed is 1,099,511,627,776: the limit is 4,294,967,295."),
        (None, "name", "n" * 201, "name is 201 characters long: the limit is 200."),
        (None, "note", "n" * 2001, "note is 2,001 characters long: the limit is 2,000."),
        ("model", "name", "/".join(["m" * 200] * 6), "model name is 1,205 characters long: the limit is 300."),
    ],
)
def test_every_bound_is_refused_with_its_limit(section, name, value, message):
    config = RunConfig()
    setattr(getattr(config, section) if section else config, name, value)
    with pytest.raises(ConfigError) as refused:
        config.validate()
    assert str(refused.value).startswith(message)


def test_every_numeric_and_text_field_has_an_upper_bound():
    import dataclasses

    from efficiency.config import SECTIONS

    unbounded = [
        f"{cls.__name__}.{f.name}"
        for cls in (RunConfig, *SECTIONS.values())
        for f in dataclasses.fields(cls)
        if f.metadata.get("flag") and f.metadata.get("at_most") is None and f.type not in ("bool",)
    ]
    # The rest have an explicit check of both ends in validate(): a share, a rate or a probability below 1,
    # max_length from 8 to 8192 and within the model's own limit.
    assert sorted(unbounded) == [
        "DataConfig.max_length",
        "TrainConfig.dropout",
        "TrainConfig.learning_rate",
        "TrainConfig.warmup_ratio",
    ]


def test_a_model_name_too_long_for_a_file_name_is_refused_in_words():
    config = RunConfig()
    config.model.name = "m" * 300
    with pytest.raises(ConfigError, match="a part 300 characters long; a file or folder name has at most 255"):
        config.validate()
    config.seed = -1
    config.model.name = "tiny"
    with pytest.raises(ConfigError, match="seed is -1: use 0 or more"):
        config.validate()


@pytest.mark.parametrize(
    ("technique", "message"),
    [
        ("lora:r=100000", "lora.r is 100,000: the limit is 256."),
        ("prefix:virtual_tokens=5000", "prefix.virtual_tokens is 5,000: the limit is 512."),
        ("distill:temperature=1e6", "distill.temperature is 1,000,000.0: the limit is 100.0."),
    ],
)
def test_a_techniques_settings_are_bounded_too(technique, message):
    config = RunConfig(techniques=[parse_technique(technique)])
    with pytest.raises(ConfigError) as refused:
        checked_device(config)
    assert str(refused.value).startswith(message)
