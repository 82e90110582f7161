"""The device check: every technique and the engine benchmark on one GPU, in one command (issue 15).

Each technique trains MiniLM on NusaX-senti Javanese through the lab's own recipe and reports its
status, test accuracy, training time, examples/s, CUDA peak memory and the board's NVML energy; then
the engine races the plain Hugging Face Trainer (benchmarks/bench_engine.py's code): speed on
MahaSent-MR (all 12,000 training sentences, 1 epoch; MiniLM cannot read Marathi, so its accuracy
there says nothing) and speed with accuracy on Javanese (3 epochs, 3 seeds). The exit status is 1
when any path failed.

It runs without the run store (no SQLAlchemy), CodeCarbon, platformdirs, Streamlit or Plotly, as on a
bare GPU image; bitsandbytes rows run when bitsandbytes is installed (else they are skipped and say
how to run them), and alone with `--only bnb` (on `--model tiny`, saved first as a local model
folder, since bitsandbytes quantizes loaded weights). `scripts/prepare_device_check.py` prepares what
the GPU machine lacks and prints the two commands.

    python benchmarks/device_check.py --device cuda                  # the table
    python benchmarks/device_check.py --device cuda --json --out check.json
    python benchmarks/device_check.py --device cuda --model tiny --only bnb
    python benchmarks/device_check.py --device cpu --quick           # tiny model, tiny data: the CPU test
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import logging
import statistics
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

try:
    import torch

    from benchmarks import bench_engine
    from efficiency.batching import encode
    from efficiency.config import DataConfig, MeasureConfig, ModelConfig, RunConfig, TrainConfig, parse_technique
    from efficiency.data import LabelledDataset, load_dataset
    from efficiency.data.splits import stratified_subsample
    from efficiency.errors import EfficiencyError
    from efficiency.measure import batch_choice
    from efficiency.model_names import MINILM, TINY
    from efficiency.models import load_classifier
    from efficiency.presets import demo_config
    from efficiency.runs import finetune
    from efficiency.runs.checks import checked_device
    from efficiency.runs.recipe import RecipeResult, RunHooks, prepare, resolve_defaults
except ModuleNotFoundError as missing:  # a GPU image without one of the lab's needs: say which, not a traceback
    raise SystemExit(
        f"The device check needs the Python module '{(missing.name or '?').split('.')[0]}', which this machine lacks: "
        "carry its package's wheel (see scripts/prepare_device_check.py) or install it."
    ) from None

JAVANESE, MARATHI = "nusax-senti/javanese", "mahasent-mr"
KWH_TO_J = 3.6e6
VERSIONS = ("torch", "transformers", "peft", "accelerate", "safetensors", "bitsandbytes", "nvidia-ml-py", "codecarbon")


@dataclass(frozen=True)
class Row:
    """One path of the check: a name, its techniques (the CLI's NAME:key=value form) and its group."""

    name: str
    techniques: tuple[str, ...] = ()
    group: str = "techniques"  # techniques | bnb
    preset: bool = False  # the home page's demo as it is (its own techniques and epochs)


ROWS = (
    Row("full"),
    Row("lora", ("lora",)),
    Row("prefix", ("prefix",)),
    Row("ia3", ("ia3",)),
    Row("bitfit", ("bitfit",)),
    Row("freeze", ("freeze",)),
    Row("probe", ("probe",)),
    Row("prune-magnitude", ("prune:method=magnitude",)),
    Row("prune-heads", ("prune:method=heads",)),
    Row("prune-layers", ("prune:method=layers",)),
    Row("distill", ("distill",)),
    Row("filter-random", ("filter:method=random",)),
    Row("filter-multistage", ("filter:method=multistage",)),
    Row("amp-bf16", ("amp:dtype=bf16",)),
    Row("amp-fp16", ("amp:dtype=fp16",)),  # its GradScaler: fp16 alone needs loss scaling
    Row("home-demo", preset=True),  # the home page's one-minute demo: under 5 s of training on a GPU
    Row("qlora-8bit", ("lora", "quant:method=bnb-8bit"), "bnb"),
    Row("qlora-4bit", ("lora", "quant:method=bnb-4bit"), "bnb"),
)
GROUPS = ("techniques", "bnb", "engine")


class NoStore:
    """The run store's two calls a recipe makes, without a database: the check keeps its results itself."""

    def update_config(self, run_id: int, config: dict[str, Any]) -> None:
        pass

    def get(self, run_id: int) -> None:  # a kept teacher run (distill:teacher=ID) is never found here
        return None


def run_recipe(config: RunConfig, eval_limit: int | None = None) -> RecipeResult:
    """One run through the lab's fine-tuning recipe, as the runner would make it, but with no store.

    `eval_limit` keeps that many validation and test examples (stratified): the quick check's CPU time.
    """
    device = checked_device(config)
    hooks = RunHooks(NoStore(), 0, lambda _row: None, threading.Event(), lambda msg: log(f"    {msg}"))  # type: ignore[arg-type]
    prepared = prepare(config, device, hooks)
    shrink_eval(prepared.dataset, eval_limit, config.seed)
    return finetune.run(prepared, hooks)


def shrink_eval(dataset: LabelledDataset, eval_limit: int | None, seed: int) -> LabelledDataset:
    if eval_limit is not None:
        dataset.valid = stratified_subsample(dataset.valid, eval_limit, seed)
        dataset.test = stratified_subsample(dataset.test, eval_limit, seed)
    return dataset


def row_config(args: argparse.Namespace, row: Row, model: str) -> RunConfig:
    measure = MeasureConfig(energy=True, flops=False, latency=False)
    specs = [parse_technique(text) for text in row.techniques]
    for spec in specs:  # a CPU without native bf16 would refuse amp: the check is about the path, not its speed
        if spec.name == "amp" and args.device == "cpu":
            spec.params["allow_emulated"] = True
    if row.preset:
        demo = demo_config()
        demo.data.limit_train, demo.data.data_dir = args.limit_train, args.data_dir
        demo.train.epochs = args.epochs if args.quick else demo.train.epochs
        demo.model.name, demo.measure, demo.seed, demo.device = model, measure, args.seed, args.device
        demo.save_model = False  # the check keeps no models
        return demo
    return RunConfig(
        name=f"device check: {row.name}",
        model=ModelConfig(name=model),
        data=DataConfig(dataset=JAVANESE, limit_train=args.limit_train, data_dir=args.data_dir),
        train=TrainConfig(epochs=args.epochs),
        measure=measure,
        techniques=specs,
        seed=args.seed,
        device=args.device,
    )


def check_row(args: argparse.Namespace, row: Row, model: str) -> dict[str, Any]:
    """Train one row and report its figures; any failure becomes the row's status and error, never a crash."""
    report: dict[str, Any] = {"name": row.name, "techniques": list(row.techniques), "model": model}
    if row.group == "bnb" and not has_bitsandbytes():
        return {**report, "status": "skipped", "error": "bitsandbytes is not installed: run `--only bnb` with it"}
    start = time.perf_counter()
    try:
        result = run_recipe(row_config(args, row, model), args.eval_limit)
    except Exception as exc:  # the check goes on with the next path and says what broke
        return {**report, "status": "failed", "error": failure(exc), "traceback": traceback.format_exc(limit=-8),
                "wall_s": time.perf_counter() - start}  # fmt: skip
    finally:
        free_device_memory()
    m = result.metrics
    report.update(
        status="ok" if result.status == "finished" else result.status,
        accuracy=m.get("accuracy"),
        macro_f1=m.get("macro_f1"),
        train_wall_s=m.get("train_wall_s"),
        examples_per_s=m.get("train_examples_per_s"),
        cuda_peak_memory_mb=m.get("cuda_peak_memory_mb"),
        nvml_energy_j=m["nvml_gpu_energy_kwh"] * KWH_TO_J if m.get("nvml_gpu_energy_kwh") is not None else None,
        nvml_idle_w=m.get("nvml_idle_power_w"),
        nvml_attributable_j=m["nvml_attributable_kwh"] * KWH_TO_J
        if m.get("nvml_attributable_kwh") is not None
        else None,
        nvml_notes=m.get("nvml_notes"),
        trainable_params=m.get("trainable_params"),
        technique_report=m.get("techniques"),
        wall_s=time.perf_counter() - start,
    )
    missing = [key for key in required_gpu_figures(args.device) if report.get(key) is None]
    if report["accuracy"] is None:
        missing.append("accuracy")
    if missing and report["status"] == "ok":
        report.update(status="failed", error=f"no {', '.join(missing)} measured")
    return report


def required_gpu_figures(device: str) -> tuple[str, ...]:
    """The figures a CUDA run must bring: without them a GPU measurement path is broken."""
    return ("cuda_peak_memory_mb", "nvml_energy_j") if device.startswith("cuda") else ()


def engine_benchmark(
    args: argparse.Namespace, model: str, report: dict[str, Any] | None = None, save: Callable[[], None] = lambda: None
) -> dict[str, Any]:
    """The engine against the plain Trainer: speed on MahaSent-MR, speed with accuracy on Javanese.

    Each race goes into `report` as it ends, and `save` is called: a run cut off in the second keeps the first.
    """
    races = {
        "mahasent-mr": (MARATHI, 1, 1, args.marathi_limit),
        "javanese": (JAVANESE, args.engine_epochs, args.engine_seeds, args.limit_train),
    }
    report = {} if report is None else report
    for key, (dataset, epochs, seeds, limit) in races.items():
        start = time.perf_counter()
        try:
            report[key] = race(args, model, dataset, epochs, range(42, 42 + seeds), limit)
        except Exception as exc:
            report[key] = {"status": "failed", "error": failure(exc), "traceback": traceback.format_exc(limit=-8)}
        finally:
            free_device_memory()
        report[key].update(dataset=dataset, epochs=epochs, wall_s=time.perf_counter() - start)
        save()
    return report


def race(args: argparse.Namespace, model: str, dataset: str, epochs: int, seeds: range, limit: int | None) -> dict:
    bench = argparse.Namespace(model=model, dataset=dataset, limit_train=limit, epochs=epochs, learning_rate=None,
                               device=args.device)  # fmt: skip
    probe = RunConfig(model=ModelConfig(name=model), data=DataConfig(dataset=dataset))
    learning_rate = resolve_defaults(probe, 128).train.learning_rate
    choice = measured_choice(args, model, dataset, limit, seeds[0])
    engine, tuned, trainer = [], [], []
    for seed in seeds:  # interleaved, as bench_engine does: a slow spell of the machine hits both
        for runs, batch_size, techniques in ((engine, None, []), (tuned, choice.batch_size, choice.techniques)):
            config = bench_engine.engine_config(bench, seed, measure=True)
            config.data.data_dir = args.data_dir
            config.train.batch_size = batch_size or config.train.batch_size
            config.techniques = [parse_technique(text) for text in techniques]
            if args.device == "cpu" and techniques:  # the quick check's CPU may lack bf16: the path, not its speed
                config.techniques[0].params["allow_emulated"] = True
                config.techniques[0].params["timed_step"] = False
            result = run_recipe(config, args.eval_limit)
            runs.append(bench_engine.engine_figures(result.metrics, result.config.to_dict()))
            free_device_memory()
        data = load_dataset(DataConfig(dataset=dataset, limit_train=limit, data_dir=args.data_dir), seed)
        trainer.append(bench_engine.trainer_run(bench, seed, learning_rate, shrink_eval(data, args.eval_limit, seed)))
        free_device_memory()
        log(f"  {dataset} seed {seed}: engine {engine[-1]['examples_per_s']:.1f} ex/s, measured recipe "
            f"{tuned[-1]['examples_per_s']:.1f} ex/s, trainer {trainer[-1]['examples_per_s']:.1f} ex/s")  # fmt: skip
    engine_rate = statistics.median(r["examples_per_s"] for r in engine)
    tuned_rate = statistics.median(r["examples_per_s"] for r in tuned)
    trainer_rate = statistics.median(r["examples_per_s"] for r in trainer)
    return {
        "status": "ok",
        "seeds": list(seeds),
        "engine_examples_per_s": engine_rate,
        "trainer_examples_per_s": trainer_rate,
        "speedup": engine_rate / trainer_rate,
        "engine_accuracy": statistics.mean(r["accuracy"] for r in engine),
        "trainer_accuracy": statistics.mean(r["accuracy"] for r in trainer),
        "engine_train_wall_s": statistics.median(r["train_wall_s"] for r in engine),
        "trainer_train_wall_s": statistics.median(r["train_wall_s"] for r in trainer),
        "recipe": {
            "batch_size": choice.batch_size,
            "dtype": choice.dtype,
            "reason": choice.reason,
            "sweep": choice.rows,
        },
        "recipe_examples_per_s": tuned_rate,
        "recipe_speedup": tuned_rate / trainer_rate,
        "recipe_accuracy": statistics.mean(r["accuracy"] for r in tuned),
        "recipe_train_wall_s": statistics.median(r["train_wall_s"] for r in tuned),
        "engine_runs": engine,
        "recipe_runs": tuned,
        "trainer_runs": trainer,
    }


def measured_choice(
    args: argparse.Namespace, model: str, dataset: str, limit: int | None, seed: int
) -> batch_choice.BatchChoice:
    """The batch size and precision for this device and dataset, from timed steps of the model on its data."""
    data = load_dataset(DataConfig(dataset=dataset, limit_train=limit, data_dir=args.data_dir), seed)
    loaded = load_classifier(model, data.label_names, seed)
    device = torch.device(args.device)
    split = encode(loaded.tokenizer, data.train, data.default_max_length)
    sizes = (4, 8) if args.quick else batch_choice.SIZES
    rows = batch_choice.measure(loaded.model.to(device), split, loaded.tokenizer.pad_token_id or 0, device, sizes,
                                steps=1 if args.quick else 3)  # fmt: skip
    del loaded
    free_device_memory()
    min_steps = 1 if args.quick else batch_choice.MIN_STEPS_PER_EPOCH
    choice = batch_choice.choose(rows, len(split), min_steps)
    log(f"  {dataset}: measured recipe {choice.reason}")
    return choice


def tiny_model_folder(folder: Path, seed: int) -> str:
    """The tiny random BERT saved as a local model folder: bitsandbytes quantizes weights as they are loaded."""
    from efficiency.models import load_classifier

    loaded = load_classifier(TINY, ["negative", "neutral", "positive"], seed)
    loaded.model.save_pretrained(folder)
    loaded.tokenizer.save_pretrained(folder)
    return str(folder)


def describe_machine(device: str) -> dict[str, Any]:
    """The versions that matter to the GPU path, the GPU and its driver (through NVML when it answers)."""
    import platform

    from efficiency.measure.environment import versions_of

    versions = versions_of(VERSIONS)
    machine: dict[str, Any] = {"python": platform.python_version(), "device": device, "versions": versions,
                               "cuda_available": torch.cuda.is_available(), "torch_cuda": torch.version.cuda}  # fmt: skip
    if torch.cuda.is_available():
        machine["gpu"] = torch.cuda.get_device_name(0)
    try:
        import pynvml

        pynvml.nvmlInit()
        machine["nvml_gpu"] = str(pynvml.nvmlDeviceGetName(pynvml.nvmlDeviceGetHandleByIndex(0)))
        machine["driver"] = str(pynvml.nvmlSystemGetDriverVersion())
    except Exception as exc:  # no NVML (a CPU machine): said, not fatal
        machine["nvml"] = f"not readable: {type(exc).__name__}"
    return machine


def has_bitsandbytes() -> bool:
    import importlib.util

    return importlib.util.find_spec("bitsandbytes") is not None


def free_device_memory() -> None:
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def failure(exc: BaseException) -> str:
    """The error in one line, and where it came from: enough to fix it from the device's output alone."""
    if isinstance(exc, EfficiencyError):
        return str(exc)
    where = traceback.extract_tb(exc.__traceback__)[-1]
    return f"{type(exc).__name__}: {exc} (at {Path(where.filename).name}:{where.lineno})"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def selected(only: str | None) -> tuple[set[str], set[str]]:
    """The groups and row names `--only` asks for (all of them without it)."""
    if not only:
        return set(GROUPS), {row.name for row in ROWS}
    asked = {part.strip() for part in only.split(",") if part.strip()}
    unknown = asked - set(GROUPS) - {row.name for row in ROWS}
    if unknown:
        names = ", ".join([*GROUPS, *(row.name for row in ROWS)])
        raise SystemExit(f"--only: unknown {', '.join(sorted(unknown))}; choose from {names}")
    return asked & set(GROUPS), {row.name for row in ROWS if row.name in asked or row.group in asked}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda", help="cuda (the check) or cpu (the same paths, for the tests)")
    parser.add_argument("--model", default=None, help=f"default: {MINILM}; {TINY} with --quick")
    parser.add_argument("--quick", action="store_true", help="tiny model, 16 sentences, 1 epoch: every path in seconds")
    parser.add_argument("--only", help="groups (techniques, bnb, engine) or row names, comma-separated")
    parser.add_argument("--data-dir", default=None, help="the data folder (default: $EFFLAB_DATA_DIR, ../shared/data)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    parser.add_argument("--out", help="also write the JSON here, after every path (a cut-off run keeps what it did)")
    args = parser.parse_args(argv)
    args.model = args.model or (TINY if args.quick else MINILM)
    # Quick: every path, in seconds on a CPU; the full check: the sizes.
    args.epochs, args.limit_train, args.eval_limit = (1, 16, 16) if args.quick else (3, None, None)
    args.engine_epochs, args.engine_seeds = (1, 1) if args.quick else (3, 3)
    args.marathi_limit = 16 if args.quick else None
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    groups, names = selected(args.only)
    logging.getLogger("transformers").setLevel(logging.ERROR)
    report: dict[str, Any] = {"command": " ".join(sys.argv), "machine": describe_machine(args.device), "rows": []}
    start = time.perf_counter()

    def save() -> None:
        report["wall_s"] = time.perf_counter() - start
        if args.out:
            Path(args.out).write_text(json.dumps(report, indent=1, default=str))

    # Library and Trainer chatter goes to stderr: stdout holds the one JSON object or the table.
    with contextlib.redirect_stdout(sys.stderr), tempfile.TemporaryDirectory() as scratch:
        for row in (r for r in ROWS if r.name in names):
            model = args.model
            if row.group == "bnb" and args.model == TINY and has_bitsandbytes():
                model = tiny_model_folder(Path(scratch) / "tiny", args.seed)
            log(f"{row.name}: {' '.join(row.techniques) or 'full fine-tuning'} on {args.model}")
            report["rows"].append(check_row(args, row, model))
            log(f"  -> {report['rows'][-1]['status']} {report['rows'][-1].get('error') or ''}")
            save()
        if "engine" in groups:
            log("engine against the Trainer")
            report["engine"] = {}
            engine_benchmark(args, args.model, report["engine"], save)
    failed = [r["name"] for r in report["rows"] if r["status"] not in ("ok", "skipped")]
    failed += [f"engine {key}" for key, race in report.get("engine", {}).items() if race["status"] != "ok"]
    report.update(ok=not failed, failed=failed)
    save()
    print(json.dumps(report, default=str) if args.json else table(report))
    return 1 if failed else 0


def table(report: dict[str, Any]) -> str:
    """The report as Markdown tables, the figures the README quotes."""
    lines = [f"machine: {json.dumps(report['machine'], default=str)}", ""]
    lines += ["| path | status | accuracy | train s | examples/s | CUDA peak MiB | NVML energy J | attributable J |",
              "| --- | --- | --- | --- | --- | --- | --- | --- |"]  # fmt: skip
    for row in report["rows"]:
        lines.append("| " + " | ".join([row["name"], row["status"], *(fmt(row.get(k)) for k in (
            "accuracy", "train_wall_s", "examples_per_s", "cuda_peak_memory_mb", "nvml_energy_j",
            "nvml_attributable_j"))]) + " |")  # fmt: skip
    errors = [f"- {row['name']}: {row['error']}" for row in report["rows"] if row.get("error")]
    for key, race in report.get("engine", {}).items():
        if race["status"] != "ok":
            errors.append(f"- engine {key}: {race['error']}")
            continue
        lines += ["", f"engine against the Trainer, {race['dataset']}, {race['epochs']} epoch(s), seeds {race['seeds']}: "
                  f"{fmt(race['engine_examples_per_s'])} against {fmt(race['trainer_examples_per_s'])} examples/s "
                  f"({race['speedup']:.2f}x), accuracy {fmt(race['engine_accuracy'])} against "
                  f"{fmt(race['trainer_accuracy'])}",
                  f"  with the measured recipe ({race['recipe']['reason']}): {fmt(race['recipe_examples_per_s'])} "
                  f"examples/s ({race['recipe_speedup']:.2f}x the Trainer), accuracy {fmt(race['recipe_accuracy'])}"]  # fmt: skip
    lines += ["", "every path ok" if report["ok"] else f"FAILED: {', '.join(report['failed'])}", *errors]
    return "\n".join(lines)


def fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 10 else f"{value:,.1f}"
    return str(value)


if __name__ == "__main__":
    sys.exit(main())
