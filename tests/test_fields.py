from dataclasses import dataclass

import pytest

from efficiency.errors import ConfigError
from efficiency.fields import describe, help_of, setting, typed


@dataclass
class Example:
    rate: float = setting(0.1, "A rate.")
    layers: list[str] = setting(["query"], "Layers.", choices=("query", "value"))
    limit: int | None = setting(None, "A limit.", flag="--limit")


def test_typed_widens_and_refuses_by_name():
    assert typed(3, float, "x.rate") == 3.0 and isinstance(typed(3, float, "x.rate"), float)
    assert typed(12, str, "distill.teacher", from_cli=True) == "12"
    assert typed("query", list[str], "lora.target_modules", from_cli=True) == ["query"]
    with pytest.raises(ConfigError, match="it must be str"):
        typed(5, str, "'config.model.name'")  # a config's JSON is typed: a number is no name
    with pytest.raises(ConfigError, match="must be a list"):
        typed("query", list[str], "x.layers")
    assert typed(None, int | None, "x.limit") is None
    with pytest.raises(ConfigError, match=r"x\.limit is '3': it must be int"):
        typed("3", int | None, "x.limit")
    with pytest.raises(ConfigError, match="it must be int"):
        typed(True, int, "x.n")
    with pytest.raises(ConfigError, match="cannot be empty"):
        typed(None, int, "x.n")
    with pytest.raises(ConfigError, match="must be an object"):
        typed([1], dict[str, int], "x.params")


def test_settings_carry_help_flag_choices_and_fresh_lists():
    a, b = Example(), Example()
    a.layers.append("value")
    assert b.layers == ["query"], "each instance gets its own default list"
    assert help_of(Example, "rate") == "A rate."
    fields = {f["name"]: f for f in describe(Example)}
    assert fields["layers"]["choices"] == ["query", "value"] and fields["limit"]["default"] is None
