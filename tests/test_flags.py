"""The train command's flags: a flag string becomes the config `train` builds, and a config its command."""

from __future__ import annotations

import shlex

import pytest

from efficiency.errors import ConfigError
from efficiency.flags import command_for, config_from_flags

FLAGS = [
    "--model tiny --epochs 1",
    "--model minilm --dataset mahasent-mr --limit-train 400 --technique distill --technique prune:method=heads,sparsity=0.5",
    "--technique lora:r=4,target_modules=query+value --no-measure-energy --dropout none --name 'my run' --learning-rate 1e-05",
]


@pytest.mark.parametrize("flags", FLAGS)
def test_a_config_round_trips_through_its_command(flags):
    config = config_from_flags(flags)
    command = command_for(config)
    assert command.startswith("python -m efficiency train")
    assert config_from_flags(shlex.join(shlex.split(command)[4:])) == config


def test_the_flags_parse_as_train_parses_them():
    config = config_from_flags("--model tiny --epochs 2 --dropout none --technique lora:r=4")
    assert (config.model.name, config.train.epochs, config.train.dropout) == ("tiny", 2, None)
    assert config.techniques[0].params == {"r": 4}


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        ("--epochs x", "'x' is not a int"),
        ("--epoch 2", "'--epoch 2' is not a flag of the train command"),
        ("--json", "'--json' is not a flag"),
        ('--name "open', "check the quotes"),
    ],
)
def test_bad_flags_raise_a_config_error_not_an_exit(flags, message):
    with pytest.raises(ConfigError, match=message):
        config_from_flags(flags)
