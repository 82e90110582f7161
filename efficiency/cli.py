"""The command line: `python -m efficiency train|runs|queue|data|techniques|predict|calibrate|lesson|tokens ...`.

`train` has a flag for every config field (generated from the dataclasses, with their help),
or takes `--config FILE`; given flags override the file. `--json` prints exactly one JSON
object on stdout; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from efficiency.errors import EfficiencyError
from efficiency.figures import FIGURES, qualities
from efficiency.flags import add_config_flags, config_from_args
from efficiency.model_names import MINILM

EXIT_BAD_INPUT = 2
EXIT_STOPPED = 130


# --- train -------------------------------------------------------------------------------------
def cmd_train(args: argparse.Namespace) -> int:
    from efficiency.store import RunStore

    config = config_from_args(args)
    if args.queue:
        return _queue_run(config, RunStore(args.store), args.json)
    from efficiency.runs.runner import run_experiment, stop_on_signals

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


def _queue_run(config: Any, store: Any, as_json: bool) -> int:
    """Insert a queued run and say its id at once; a queue server (or an app server) starts it."""
    from efficiency.runs.checks import checked_device

    device = str(checked_device(config))  # a config refused now inserts nothing
    run_id = store.create_run(config.to_dict(), device=device)
    if as_json:
        print(json.dumps({"run_id": run_id, "status": "queued"}))
    else:
        print(f"run {run_id} queued on {device}: `python -m efficiency queue serve` (or the app) starts it")
    return 0


def cmd_queue(args: argparse.Namespace) -> int:
    """`queue serve`: the app's scheduler without the app, until SIGINT or SIGTERM."""
    import signal

    from efficiency.runs.serve import serve
    from efficiency.store import RunStore

    store = RunStore(args.store)
    halt = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: halt.set())
    serve(store, halt, say=lambda message: print(message, file=sys.stderr, flush=True),
          executor=args.executor, ray_address=args.ray_address)  # fmt: skip
    return 0


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
    if args.runs_command == "card":
        from efficiency.run_card import card_markdown, run_card

        record = store.get(args.run_id)
        if record is None:
            raise EfficiencyError(f"There is no run {args.run_id}: see `python -m efficiency runs list`.")
        card = run_card(record)
        print(json.dumps(card, default=str, indent=2) if args.format == "json" else card_markdown(card))
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


# --- lessons ----------------------------------------------------------------------------------------
def cmd_lesson(args: argparse.Namespace) -> int:
    from efficiency import lessons
    from efficiency.store import RunStore

    store = RunStore(args.store)
    if args.lesson_command == "list":
        from efficiency.lessons.minutes import estimate_minutes

        rows = []
        for lesson in lessons.shipped_lessons():
            plan = lessons.plan_lesson(lesson, store)
            minutes = estimate_minutes(plan)
            rows.append({
                "name": lesson.name, "title": lesson.title, "pillar": lesson.pillar, "runs": len(plan.items),
                "minutes": minutes.total, "minutes_left": minutes.left, "minutes_method": minutes.method,
                "uncalibrated_models": list(minutes.missing_calibrations), "minutes_problems": list(minutes.problems),
                "done": plan.done,
            })  # fmt: skip
        if args.json:
            print(json.dumps(rows))
            return 0
        for row in rows:
            for key in ("minutes", "minutes_left"):
                row[key] = "?" if row[key] is None else f"~{row[key]:.1f}"
            row["done"] = "yes" if row["done"] else "no"
        print(_table(rows, ["name", "pillar", "runs", "minutes", "minutes_left", "done", "title"]))
        print("minutes: " + rows[0]["minutes_method"] if rows else "no lessons in assets/lessons")
        uncalibrated = sorted({m for row in rows for m in row["uncalibrated_models"]})
        if uncalibrated:
            print(
                f"no calibration yet for {', '.join(uncalibrated)}: run `python -m efficiency calibrate --model NAME`"
            )
        for problem in sorted({p for row in rows for p in row["minutes_problems"]}):
            print(f"not estimated: {problem}")
        return 0
    if args.lesson_command == "run":
        from efficiency.lessons.cost import about_cost, lesson_cost
        from efficiency.lessons.execute import run_plan
        from efficiency.measure.carbon import resolve_country
        from efficiency.runs.runner import stop_on_signals

        lesson = lessons.find_lesson(args.lesson)
        stop = threading.Event()
        stop_on_signals(stop)
        say = (lambda message: print(message, file=sys.stderr, flush=True)) if not args.quiet else (lambda _m: None)
        plan = run_plan(lessons.plan_lesson(lesson, store), store, stop, say)
        result = lessons.lesson_result(lesson, store, plan)
        scale = {"params": args.scale_params_m * 1e6, "data_factor": args.scale_data}
        cost = lesson_cost(result, resolve_country(args.country), **scale) if about_cost(lesson) else None
        if args.json:
            print(json.dumps({**result.to_json(), **({"cost": cost.to_json()} if cost else {})}, default=str))
        else:
            print(result.text() + (f"\n{cost.text()}" if cost else ""))
        return EXIT_STOPPED if stop.is_set() else 0
    raise AssertionError(args.lesson_command)


def cmd_tokens(args: argparse.Namespace) -> int:
    from efficiency import tokens
    from efficiency.preview import load_tokenizer

    tokenizer, note = load_tokenizer(args.model)
    if args.text is not None:
        rows = [tokens.count(tokenizer, [args.text], "text")]
        pieces = tokens.split_pieces(tokenizer, args.text)
    else:
        rows = tokens.dataset_lens(tokenizer, tokens.dataset_names(args.dataset), args.data_dir, args.sample)
        pieces = None
        if not rows:
            raise EfficiencyError("None of these datasets is in the data folder: see `python -m efficiency data list`.")
    if args.json:
        print(json.dumps({"model": args.model, "note": note, "method": tokens.METHOD,
                          "rows": [r.to_dict() for r in rows], "pieces": pieces}))  # fmt: skip
        return 0
    table = [
        {"source": r.source, "texts": r.texts, "pieces/word": r.fertility, "unknown": r.unknown_share,
         "chars/piece": r.chars_per_piece, "chars lost": r.lost_share}
        for r in rows
    ]  # fmt: skip
    print(_table(table, ["source", "texts", "pieces/word", "unknown", "chars/piece", "chars lost"]))
    if pieces is not None:
        print("pieces: " + " ".join(pieces))
    print(f"{args.model}: {tokens.METHOD}" + (f" ({note})" if note else ""))


# --- predict ----------------------------------------------------------------------------------------
def cmd_predict(args: argparse.Namespace) -> int:
    """The Experiment page's sentence box on the command line: a kept model's label for one sentence."""
    from efficiency.inference import KeptModel, kept_model_path
    from efficiency.store import RunStore

    model = KeptModel(kept_model_path(RunStore(args.store), args.run_id))
    result = model.predict_one(args.text)
    if args.json:
        print(json.dumps({"run_id": args.run_id, "label": result.label, "probabilities": result.probabilities}))
    else:
        print(f"run {args.run_id}: {result.label}")
        width = max(len(label) for label in result.probabilities)
        for label, probability in result.probabilities.items():
            print(f"  {label:<{width}}  {probability:.3f}")
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
    train.add_argument("--queue", action="store_true",
                       help="Queue the run and print its id at once; `queue serve` or the app starts it.")  # fmt: skip
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
    card = runs_sub.add_parser("card", help="A run card: config, hardware, versions, methods, results, command.")
    card.add_argument("run_id", type=int)
    card.add_argument("--format", choices=["md", "json"], default="md")
    for verb in ("stop", "delete"):
        sub = runs_sub.add_parser(verb)
        sub.add_argument("run_id", type=int)
    importing = runs_sub.add_parser("import", help="Bring back a result the store refused (saved as a JSON file).")
    importing.add_argument("file")
    runs.set_defaults(func=cmd_runs)

    queue = commands.add_parser("queue", help="Serve the run store's queue without the app.")
    queue_sub = queue.add_subparsers(dest="queue_command", required=True)
    serving = queue_sub.add_parser("serve", help="Start queued runs as devices free up, until Ctrl-C or SIGTERM.")
    serving.add_argument("--executor", choices=["local", "ray"], default="local",
                         help="local: this machine's devices; ray: one Ray job per run on a Ray cluster.")  # fmt: skip
    serving.add_argument("--ray-address", metavar="URL",
                         help="Ray's job API (the dashboard), e.g. http://127.0.0.1:8265; default $RAY_ADDRESS.")  # fmt: skip
    queue.set_defaults(func=cmd_queue)

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

    lesson = commands.add_parser("lesson", help="List the lessons, or run one and print its verdict.")
    lesson_sub = lesson.add_subparsers(dest="lesson_command", required=True)
    lesson_list = lesson_sub.add_parser("list", help="The shipped lessons, their estimated minutes, done or not.")
    lesson_list.add_argument("--json", action="store_true")
    lesson_run = lesson_sub.add_parser("run", help="Train a lesson's missing runs (stored ones are reused).")
    lesson_run.add_argument("lesson", metavar="NAME_OR_PATH", help="A shipped lesson's name or a lesson file.")
    lesson_run.add_argument("--json", action="store_true", help="Print one JSON object on stdout.")
    lesson_run.add_argument("--quiet", action="store_true", help="No progress on stderr.")
    lesson_run.add_argument(
        "--country", help="Price CO2 on this country's grid (ISO code; default $EFFLAB_COUNTRY or the world)."
    )
    # The Lessons page's defaults (efficiency.lessons.cost): a billion parameters on a thousand times the data.
    lesson_run.add_argument(
        "--scale-params-m",
        type=float,
        default=1_000.0,
        metavar="MILLIONS",
        help="A lesson about cost prices its costliest run at this many parameters (estimate).",
    )
    lesson_run.add_argument("--scale-data", type=float, default=1_000.0, metavar="FACTOR",
                            help="...and on this many times its training data.")  # fmt: skip
    lesson.set_defaults(func=cmd_lesson)

    lens = commands.add_parser("tokens", help="How a model's tokenizer reads each language or your sentence.")
    lens.add_argument("--model", default=MINILM)
    lens.add_argument("--dataset", help="A dataset, a family (all its languages), or none for every dataset.")
    lens.add_argument("--text", help="Your own sentence instead of a dataset: its pieces are shown.")
    lens.add_argument("--sample", type=int, default=200, help="Training texts read per language (default: 200).")
    lens.add_argument("--data-dir")
    lens.add_argument("--json", action="store_true")
    lens.set_defaults(func=cmd_tokens)

    predict = commands.add_parser("predict", help="Predict the label of a sentence with a run's kept model.")
    predict.add_argument("run_id", type=int, help="A finished run whose model was kept (--save-model).")
    predict.add_argument("text", help="The sentence, in the dataset's language.")
    predict.add_argument("--json", action="store_true", help="Print one JSON object: label and probabilities.")
    predict.set_defaults(func=cmd_predict)

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
    """Run one command: bad input is one `error:` line and exit 2; an unexpected error's traceback goes to a log."""
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
    except Exception as exc:  # a fault of the lab, or an input it did not foresee: no traceback on the screen
        log = write_traceback_log(args.command)
        first_line = (str(exc).strip().splitlines() or [""])[0][:200]
        print(
            f"error: unexpected {type(exc).__name__}: {first_line} (the traceback is in {log}). Check the "
            "settings; if they look right, report it with that file.",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT


def write_traceback_log(command: str) -> Path:
    """The current exception's traceback, written to a new file in the logs folder; returns its path."""
    import time
    import traceback

    from efficiency import paths

    log = paths.logs_dir() / f"{command}-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
    log.write_text(traceback.format_exc(), encoding="utf-8")
    return log
