"""The train command's flags, generated from the config's fields: one parser for the CLI and lesson files.

Each config field with a `flag` becomes an option with its help text; `config_from_args` turns the
parsed options into a `RunConfig`, and `config_from_flags` does the same for a flag string such as a
lesson run's `args = "--model tiny --epochs 1"`.
"""

from __future__ import annotations

import argparse
import dataclasses
import shlex
import typing
from pathlib import Path
from typing import Any

from efficiency.config import SECTIONS, RunConfig, parse_technique
from efficiency.errors import ConfigError, EfficiencyError
from efficiency.fields import base_type


def _config_fields() -> list[tuple[str | None, dataclasses.Field[Any], type]]:
    """(section or None for top level, field, base type) for every field with a CLI flag."""
    out = []
    for section, cls in [(None, RunConfig), *SECTIONS.items()]:
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            if f.metadata.get("flag"):
                out.append((section, f, base_type(hints[f.name])))
    return out


_NONE = object()  # a flag given as 'none': set the field to None (the recommended default)


def _optional(base: type) -> Any:
    def parse(text: str) -> Any:
        if text.strip().lower() in {"none", ""}:
            return _NONE
        try:
            return base(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not a {base.__name__}") from None

    parse.__name__ = base.__name__
    return parse


def add_config_flags(parser: argparse.ArgumentParser) -> None:
    defaults = RunConfig()
    for section, f, base in _config_fields():
        default = getattr(getattr(defaults, section) if section else defaults, f.name)
        help_text = f"{f.metadata['help']} (default: {default})".replace("%", "%%")
        kwargs: dict[str, Any] = {"dest": f"{section or 'run'}.{f.name}", "default": None, "help": help_text}
        if base is bool:
            parser.add_argument(f.metadata["flag"], action=argparse.BooleanOptionalAction, **kwargs)
        else:
            parser.add_argument(f.metadata["flag"], type=_optional(base), metavar=base.__name__.upper(), **kwargs)
    parser.add_argument(
        "--technique",
        action="append",
        default=[],
        metavar="NAME[:key=value,...]",
        help="Switch a technique on (repeatable); list values joined with '+', e.g. lora:r=8,target_modules=query+value.",
    )


def config_from_args(args: argparse.Namespace) -> RunConfig:
    if args.config:
        try:
            config = RunConfig.from_json(Path(args.config).read_text(encoding="utf-8"))
        except OSError as exc:
            raise EfficiencyError(f"Cannot read config file {args.config}: {exc.strerror}.") from exc
    else:
        config = RunConfig()
    for section, f, _base in _config_fields():
        value = getattr(args, f"{section or 'run'}.{f.name}")
        if value is not None:
            setattr(getattr(config, section) if section else config, f.name, None if value is _NONE else value)
    if args.technique:
        config.techniques = [parse_technique(t) for t in args.technique]
    return config


class _RaisingParser(argparse.ArgumentParser):
    """An argparse parser that raises ConfigError instead of printing usage and exiting."""

    def error(self, message: str) -> typing.NoReturn:
        raise ConfigError(message)


def flags_parser() -> argparse.ArgumentParser:
    """The train command's config flags alone (no --config, --json or --quiet), raising on bad input."""
    parser = _RaisingParser(prog="train", add_help=False, allow_abbrev=False)
    add_config_flags(parser)
    parser.set_defaults(config=None)
    return parser


def config_from_flags(text: str) -> RunConfig:
    """'--model tiny --epochs 1 --technique lora' -> the RunConfig `train` would build from those flags."""
    try:
        tokens = shlex.split(text)
    except ValueError as exc:
        raise ConfigError(f"The flags '{text}' cannot be split into words ({exc}): check the quotes.") from exc
    args, unknown = flags_parser().parse_known_args(tokens)
    if unknown:
        raise ConfigError(
            f"'{' '.join(unknown)}' is not a flag of the train command: see `python -m efficiency train --help`."
        )
    return config_from_args(args)


def command_for(config: RunConfig) -> str:
    """The train command that rebuilds `config`: every flag whose value differs from the default."""
    defaults = RunConfig()
    words = ["python", "-m", "efficiency", "train"]
    for section, f, base in _config_fields():
        value = getattr(getattr(config, section) if section else config, f.name)
        if value == getattr(getattr(defaults, section) if section else defaults, f.name):
            continue
        flag = f.metadata["flag"]
        if base is bool:
            words.append(flag if value else f"--no-{flag.removeprefix('--')}")
        else:
            words += [flag, "none" if value is None else str(value)]
    for spec in config.techniques:
        params = ",".join(f"{k}={_flag_value(v)}" for k, v in spec.params.items())
        words += ["--technique", f"{spec.name}:{params}" if params else spec.name]
    return shlex.join(words)


def _flag_value(value: Any) -> str:
    """A technique setting as --technique writes it: lists joined with '+'."""
    return "+".join(map(str, value)) if isinstance(value, list) else str(value)
