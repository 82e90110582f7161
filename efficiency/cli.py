"""The command line: `python -m efficiency train|runs|data|techniques ...`.

`train` has a flag for every config field (generated from the dataclasses, with their help),
or takes `--config FILE`; given flags override the file. `--json` prints exactly one JSON
object on stdout; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import threading
import types
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from efficiency.config import SECTIONS, RunConfig, parse_technique
from efficiency.errors import EfficiencyError
from efficiency.figures import FIGURES, qualities
from efficiency.model_names import MINILM

EXIT_BAD_INPUT = 2
EXIT_STOPPED = 130


# --- flags generated from the config -----------------------------------------------------------
def _base_type(annotation: Any) -> type:
    """int | None -> int."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return next(a for a in typing.get_args(annotation) if a is not type(None))
    return annotation


def _config_fields() -> list[tuple[str | None, dataclasses.Field[Any], type]]:
    """(section or None for top level, field, base type) for every field with a CLI flag."""
    out = []
    for section, cls in [(None, RunConfig), *SECTIONS.items()]:
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            if f.metadata.get("flag"):
                out.append((section, f, _base_type(hints[f.name])))
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


# --- train -------------------------------------------------------------------------------------
def cmd_train(args: argparse.Namespace) -> int:
    from efficiency.runs.runner import run_experiment, stop_on_signals
    from efficiency.store import RunStore

    config = config_from_args(args)
    stop = threading.Event()
    stop_on_signals(stop)
    bar = _ProgressBar(enabled=not args.quiet)
    try:
        result = run_experiment(
            config,
            store=RunStore(args.store),
            on_progress=bar.update,
            on_status=bar.say,
            stop=stop,
        )
    finally:
        bar.close()
    if args.json:
        from efficiency.finite import finite

        print(json.dumps(finite(result.summary()), default=str))  # a diverged loss is null, never a bare NaN
    else:
        print(format_result(result.summary(), result.metrics.get("provenance", {})))
    return EXIT_STOPPED if result.status == "stopped" else 0


class _ProgressBar:
    """tqdm on stderr, fed by the engine's progress callback."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._bar = None

    def say(self, message: str) -> None:
        if self.enabled:
            print(message, file=sys.stderr, flush=True)

    def update(self, row: dict[str, Any]) -> None:
        if not self.enabled or row.get("phase") != "train":
            return
        if self._bar is None:
            from tqdm import tqdm

            self._bar = tqdm(total=row["total_steps"], desc="train", unit="step", file=sys.stderr, mininterval=0.5)
        loss = "–" if row.get("loss") is None else f"{row['loss']:.3f}"
        self._bar.set_postfix(loss=loss, ex_s=f"{row['examples_per_s']:.1f}", refresh=False)
        self._bar.update(row["step"] - self._bar.n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def format_result(summary: dict[str, Any], provenance: dict[str, dict[str, str]]) -> str:
    """A readable card: each figure as stored, with its unit and whether it was measured, counted or estimated."""
    lines = [
        f"run {summary['run_id']}: {summary['status']}  {summary['model']} on {summary['dataset']} ({summary['device']})"
    ]
    if summary.get("stopped_at"):
        lines.append(f"  stopped at {summary['stopped_at']}")
    for fig in FIGURES:
        if fig.key not in summary:  # the summary names the figures `train` prints (no GPU memory)
            continue
        value = summary[fig.key]
        shown = format(value, fig.stored_format) if value is not None else "-"
        unit = fig.unit if fig.stored_unit is None else fig.stored_unit
        kind = provenance.get(fig.key, {}).get("kind", "")
        lines.append(f"  {fig.key:<18} {shown:>12} {unit:<11} {kind}")
    if summary.get("energy_method"):
        lines.append(f"  energy method: {summary['energy_method']}")
    return "\n".join(lines)


# --- runs ----------------------------------------------------------------------------------------
def cmd_runs(args: argparse.Namespace) -> int:
    from efficiency.store import RunStore

    store = RunStore(args.store)
    if args.runs_command == "list":
        rows = [r.summary() for r in store.list(status=args.status, limit=args.limit)]
        if args.json:
            print(json.dumps(rows, default=str))
        else:
            qualities_shown = [f.key for f in qualities()]
            print(_table(rows, ["run_id", "status", "name", "model", "dataset", *qualities_shown, "train_wall_s"]))
        return 0
    if args.runs_command == "show":
        record = store.get(args.run_id)
        if record is None:
            raise EfficiencyError(f"There is no run {args.run_id}: see `python -m efficiency runs list`.")
        print(json.dumps(dataclasses.asdict(record), default=str, indent=None if args.json else 2))
        return 0
    if args.runs_command == "export":
        records = store.list()
        from efficiency.compare import export_runs

        text = export_runs(records, args.format)
        if args.output:
            Path(args.output).write_text(text, encoding="utf-8")
        else:
            sys.stdout.write(text)
        return 0
    if args.runs_command == "stop":
        status = store.request_stop(args.run_id)
        if status is None:
            raise EfficiencyError(f"There is no run {args.run_id}.")
        print(f"run {args.run_id}: {'stop requested' if status == 'running' else status}")
        return 0
    if args.runs_command == "import":
        from efficiency.unsaved import import_file

        run_id = import_file(store, Path(args.file))
        print(f"{args.file} -> run {run_id}; the file can be deleted")
        return 0
    if args.runs_command == "delete":
        if not store.delete(args.run_id):
            raise EfficiencyError(f"There is no run {args.run_id}.")
        print(f"run {args.run_id} deleted")
        return 0
    raise AssertionError(args.runs_command)


def _table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    def cell(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.3f}"
        return "" if v is None else str(v)

    widths = {c: max([len(c)] + [len(cell(r.get(c))) for r in rows]) for c in columns}
    lines = ["  ".join(c.ljust(widths[c]) for c in columns)]
    lines += ["  ".join(cell(r.get(c)).ljust(widths[c]) for c in columns) for r in rows]
    return "\n".join(lines)


# --- data and techniques --------------------------------------------------------------------------
def cmd_data(args: argparse.Namespace) -> int:
    from efficiency import data, paths

    if args.data_command == "list":
        rows = data.list_datasets(args.data_dir)
        if args.json:
            print(json.dumps(rows))
        else:
            print(f"data folder: {paths.data_dir(args.data_dir)}")
            print(_table(rows, ["name", "present", "license", "task"]))
        return 0
    if args.data_command == "download":
        from efficiency.data.download import download

        ref = data.resolve(args.name)
        root = Path(args.data_dir) if args.data_dir else paths.cache_dir() / "data"
        try:
            folder = download(ref, root)
        except OSError as exc:
            raise EfficiencyError(f"Download of {ref.name} failed ({exc}). Offline? Copy the files by hand.") from exc
        print(f"{ref.name} -> {folder}")
        return 0
    raise AssertionError(args.data_command)


def cmd_techniques(args: argparse.Namespace) -> int:
    from efficiency.techniques import FACTS, describe

    rows = [describe(name) for name in sorted(FACTS)]
    if args.json:
        print(json.dumps(rows))
    else:
        for row in rows:
            print(f"{row['name']} ({row['title']}; {row['pillar']}): {row['summary']}")
        if not rows:
            print("no techniques are registered yet")
    return 0


def cmd_calibrate(args: argparse.Namespace) -> int:
    from efficiency.estimate import calibrate

    result = calibrate(args.model, args.device)
    if args.json:
        print(json.dumps(dataclasses.asdict(result)))
    else:
        print(
            f"{result.model} on {result.device}: {result.flops_per_s / 1e9:.1f} GFLOP/s in training, "
            f"{result.train_flops_per_token / 1e6:.1f} MFLOP per token per step ({result.step_wall_s:.2f} s/step)"
        )
        if result.power_w:
            print(f"average power {result.power_w:.1f} W, estimated by {result.power_method}")
    return 0


# --- parser ---------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m efficiency", description="Efficiency Lab: measured NLP efficiency."
    )
    parser.add_argument("--store", default=None, help="SQLAlchemy URL of the run store (default: $EFFLAB_STORE, else a SQLite file in the app-data folder).")  # fmt: skip
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="Run one experiment.")
    train.add_argument("--config", help="A JSON config file (as stored with runs); flags override it.")
    train.add_argument("--json", action="store_true", help="Print one JSON object on stdout.")
    train.add_argument("--quiet", action="store_true", help="No progress on stderr.")
    add_config_flags(train)
    train.set_defaults(func=cmd_train)

    runs = commands.add_parser("runs", help="List, show, export, stop, delete or import stored runs.")
    runs_sub = runs.add_subparsers(dest="runs_command", required=True)
    listing = runs_sub.add_parser("list")
    listing.add_argument("--json", action="store_true")
    listing.add_argument("--status", choices=["queued", "running", "finished", "failed", "stopped", "interrupted"])
    listing.add_argument("--limit", type=int)
    show = runs_sub.add_parser("show")
    show.add_argument("run_id", type=int)
    show.add_argument("--json", action="store_true")
    export = runs_sub.add_parser("export")
    export.add_argument("--format", choices=["csv", "json"], default="csv")
    export.add_argument("--output", help="Write to this file instead of stdout.")
    for verb in ("stop", "delete"):
        sub = runs_sub.add_parser(verb)
        sub.add_argument("run_id", type=int)
    importing = runs_sub.add_parser("import", help="Bring back a result the store refused (saved as a JSON file).")
    importing.add_argument("file")
    runs.set_defaults(func=cmd_runs)

    data = commands.add_parser("data", help="List or download datasets.")
    data_sub = data.add_subparsers(dest="data_command", required=True)
    data_list = data_sub.add_parser("list")
    data_list.add_argument("--json", action="store_true")
    data_list.add_argument("--data-dir")
    data_download = data_sub.add_parser("download")
    data_download.add_argument("name")
    data_download.add_argument("--data-dir", help="Download into this folder (default: the user cache).")
    data.set_defaults(func=cmd_data)

    techniques = commands.add_parser("techniques", help="List the efficiency techniques.")
    techniques.add_argument("action", choices=["list"])
    techniques.add_argument("--json", action="store_true")
    techniques.set_defaults(func=cmd_techniques)

    calibration = commands.add_parser(
        "calibrate", help="Measure this device's training speed once, for the app's cost estimates."
    )
    calibration.add_argument("--model", default=MINILM)
    calibration.add_argument("--device", default="auto")
    calibration.add_argument("--json", action="store_true")
    calibration.set_defaults(func=cmd_calibrate)
    return parser


def _warn_of_a_visible_password(url: str | None) -> None:
    from efficiency.store_url import ENV_VAR, has_password

    if has_password(url):
        print(
            f"warning: a password given with --store can be read by every user of this machine; set ${ENV_VAR} instead.",
            file=sys.stderr,
        )


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _warn_of_a_visible_password(args.store)
    try:
        return args.func(args)
    except EfficiencyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_STOPPED
