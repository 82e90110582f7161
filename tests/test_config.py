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
