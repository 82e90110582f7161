"""The one facade: config in; progress and a stop signal while it runs; a stored result out.

The CLI, the background worker and the app all run experiments through `run_experiment`.
It validates the config, records the run, waits for the device's slot, trains (or fits the
TF-IDF baseline), measures everything with its provenance, and always writes a final status:
finished, stopped (with what it measured so far), or failed (with a message that says what to do).
"""

from __future__ import annotations

import dataclasses
import threading
import traceback as tb
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import torch

from efficiency import data as datasets
from efficiency import paths
from efficiency.config import RunConfig
from efficiency.errors import ConfigError, EfficiencyError
from efficiency.measure import Provenance, environment, latency, size
from efficiency.measure.busy import OtherLoad
from efficiency.measure.carbon import co2_kg, intensity_g_per_kwh, resolve_country
from efficiency.measure.energy import EnergyMeter, EnergyReading, NvmlEnergyCounter
from efficiency.measure.flops import ANALYTICAL_METHOD, FlopMeter, analytical_train_flops
from efficiency.measure.memory import CUDA_METHOD, RSS_METHOD, PeakMemory
from efficiency.measure.timer import PhaseTimer
from efficiency.models import TFIDF, TINY, load_classifier
from efficiency.slots import device_slot
from efficiency.store import RunStore
from efficiency.techniques import build as build_techniques
from efficiency.techniques import validate_techniques
from efficiency.techniques.base import TechniqueContext
from efficiency.training import Progress, encode, resolve_device, seed_everything, train

LATENCY_EXAMPLES = 32
MISCLASSIFIED_SHOWN = 12
DEFAULT_LEARNING_RATES = {TINY: 1e-3}  # measured: a random tiny model needs a higher rate
DEFAULT_LEARNING_RATE = 2e-4  # measured on MiniLM + NusaX-senti: 5e-5 stays under 0.5 macro-F1 in 3 epochs

StatusFn = Callable[[str], None]
ProgressFn = Callable[[dict[str, Any]], None]


@dataclass
class RunResult:
    run_id: int
    status: str
    config: dict[str, Any]
    metrics: dict[str, Any] = field(default_factory=dict)
    curves: dict[str, Any] = field(default_factory=dict)
    environment: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    def summary(self) -> dict[str, Any]:
        """The flat record `train --json` prints."""
        m = self.metrics
        keys = (
            "accuracy", "macro_f1", "train_wall_s", "eval_wall_s", "train_flops", "energy_kwh", "energy_method",
            "co2_kg", "carbon_intensity_g_per_kwh", "country", "peak_memory_mb", "total_params", "trainable_params",
            "model_size_mb", "latency_ms_b1", "latency_ms_b32", "stopped_at",
        )  # fmt: skip
        return {
            "run_id": self.run_id,
            "status": self.status,
            "model": self.config["model"]["name"],
            "dataset": self.config["data"]["dataset"],
            **{k: m.get(k) for k in keys},
            "device": self.environment.get("device") or self.config.get("device"),
            "error": self.error,
            "config": self.config,
        }


class _CancelWatch:
    """While waiting for the device: a stop signal here, or a cancel written to the store (every 2 s)."""

    def __init__(self, store: RunStore, run_id: int, stop: threading.Event, every_s: float = 2.0) -> None:
        self.store, self.run_id, self.stop, self.every_s = store, run_id, stop, every_s
        self._checked_at = 0.0

    def __call__(self) -> bool:
        import time

        if self.stop.is_set():
            return True
        if time.monotonic() - self._checked_at >= self.every_s:
            self._checked_at = time.monotonic()
            record = self.store.get(self.run_id)
            if record is None or record.status != "queued":
                self.stop.set()
        return self.stop.is_set()


class _Live:
    """The latest progress, written to the store about once a second by a heartbeat thread."""

    def __init__(self, store: RunStore, run_id: int, stop: threading.Event, interval_s: float = 1.0) -> None:
        self.store, self.run_id, self.stop, self.interval_s = store, run_id, stop, interval_s
        self.latest: dict[str, Any] | None = None
        self._written: dict[str, Any] | None = None
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-{run_id}", daemon=True)

    def __enter__(self) -> _Live:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()
        self._write()

    def _beat(self) -> None:
        while not self._done.wait(self.interval_s):
            self._write()

    def _write(self) -> None:
        latest = self.latest
        fresh = latest if latest is not self._written else None
        try:
            if self.store.heartbeat(self.run_id, fresh):
                self.stop.set()  # the Stop button (or `runs stop`) wrote stop_requested
            self._written = latest
        except Exception:
            pass


def run_experiment(
    config: RunConfig,
    *,
    store: RunStore | None = None,
    run_id: int | None = None,
    on_progress: ProgressFn | None = None,
    on_status: StatusFn | None = None,
    stop: threading.Event | None = None,
) -> RunResult:
    """Run one experiment end to end and store it. Raises EfficiencyError for bad input (after storing it)."""
    store = store or RunStore()
    stop = stop or threading.Event()
    say = on_status or (lambda _msg: None)
    if run_id is None:
        run_id = store.create_run(config.to_dict())
    try:
        config.validate()
        # The baseline runs on the CPU whatever the device setting: it must not hold (or be labelled with) a GPU.
        device = torch.device("cpu") if config.model.name == TFIDF else resolve_device(config.device)
        validate_techniques(config, device)  # the combinations that depend on the device (amp, quant)
    except EfficiencyError as exc:
        store.finish(run_id, "failed", error=str(exc))
        raise
    except Exception as exc:  # a config that slipped past validation must still end as a stored failure
        store.finish(run_id, "failed", error=f"The config could not be used: {exc}", traceback=tb.format_exc())
        raise EfficiencyError(f"The config could not be used: {exc}") from exc

    store.mark_waiting(run_id)  # so a waiter killed before it starts is reaped, not left queued forever
    cancelled = _CancelWatch(store, run_id, stop)
    with device_slot(str(device), f"run {run_id}", on_wait=lambda who: say(f"waiting for {device}: {who} is using it"),
                     should_stop=cancelled) as got_slot:  # fmt: skip
        if not got_slot:
            record = store.get(run_id)
            if record is not None and record.status == "queued":
                store.finish(run_id, "stopped", error="cancelled while waiting for the device")
            return RunResult(run_id, "stopped", config.to_dict(), error="cancelled while waiting for the device")
        if not store.claim(run_id, str(device)):
            record = store.get(run_id)
            status = record.status if record else "missing"
            return RunResult(run_id, status, config.to_dict(), error=f"run {run_id} was not queued (it is {status})")
        env = environment.describe(device)
        store.set_environment(run_id, env)
        live = _Live(store, run_id, stop)

        def progress(point: Progress | dict[str, Any]) -> None:
            row = dataclasses.asdict(point) if isinstance(point, Progress) else dict(point)
            live.latest = row
            if on_progress:
                on_progress(row)

        with live:
            try:
                say(f"run {run_id} on {device}")
                outcome = _execute(config, device, store, run_id, progress, stop, say)
            except EfficiencyError as exc:
                store.finish(run_id, "failed", error=str(exc))
                raise
            except torch.OutOfMemoryError as exc:
                message = (
                    f"Out of memory on {device}. Lower the batch size or --max-length, choose a smaller model, "
                    "or close other programs using the device."
                )
                store.finish(run_id, "failed", error=message, traceback=tb.format_exc())
                raise EfficiencyError(message) from exc
            except BaseException as exc:
                store.finish(run_id, "failed", error=f"{type(exc).__name__}: {exc}", traceback=tb.format_exc())
                raise
        metrics, curves, model_path, status, resolved = outcome
        store.finish(run_id, status, metrics=metrics, curves=curves, model_path=model_path)
        env.update(metrics.pop("_environment", {}))
        store.set_environment(run_id, env)
    return RunResult(run_id, status, resolved, metrics, curves, env)


def resolve_defaults(config: RunConfig, default_max_length: int) -> RunConfig:
    """Fill the 'recommended default' fields, so the stored config reproduces the run."""
    resolved = RunConfig.from_dict(config.to_dict())
    if resolved.data.max_length is None:
        resolved.data.max_length = default_max_length
    if resolved.train.learning_rate is None:
        technique_rate = build_techniques(config).default_learning_rate()
        resolved.train.learning_rate = technique_rate or DEFAULT_LEARNING_RATES.get(
            config.model.name, DEFAULT_LEARNING_RATE
        )
    if resolved.measure.country is None:
        resolved.measure.country = resolve_country(None)
    return resolved


def _execute(
    config: RunConfig,
    device: torch.device,
    store: RunStore,
    run_id: int,
    progress: Callable[[Any], None],
    stop: threading.Event,
    say: StatusFn,
) -> tuple[dict[str, Any], dict[str, Any], str | None, str, dict[str, Any]]:
    timer = PhaseTimer(device)
    with timer.phase("load_data"):
        dataset = datasets.load_dataset(config.data, config.seed)
    techniques = build_techniques(config)
    resolved = resolve_defaults(config, dataset.default_max_length)
    store.update_config(run_id, resolved.to_dict())
    if config.model.name == TFIDF:
        return _execute_tfidf(resolved, dataset, device, timer, stop, say, run_id)

    seed_everything(resolved.seed)
    with timer.phase("load_model"):
        loaded = load_classifier(resolved.model.name, dataset.label_names, resolved.seed, techniques.load_options())
    model, tokenizer = loaded.model, loaded.tokenizer
    if tokenizer.pad_token_id is None:
        raise ConfigError(f"The tokenizer of '{resolved.model.name}' has no padding token: choose another model.")
    _set_dropout(model, resolved.train.dropout)
    max_length = resolved.data.max_length
    context = TechniqueContext(
        run=resolved, device=device, tokenizer=tokenizer, label_names=dataset.label_names, seed=resolved.seed
    )
    # Techniques in their fixed order: data first; the model's shape and adapters below, inside the
    # energy window (a teacher trained for distillation is charged to the run); precision and
    # after-training hooks are called by the loop.
    with timer.phase("techniques"):
        dataset.train = techniques.filter_data(dataset.train, context)
    with timer.phase("tokenize"):
        encoded = [encode(tokenizer, split, max_length) for split in (dataset.train, dataset.valid, dataset.test)]
    say(f"{dataset.name}: {len(dataset.train)} train / {len(dataset.valid)} valid / {len(dataset.test)} test examples")

    flops = FlopMeter() if resolved.measure.flops else None
    energy = EnergyMeter(device, enabled=resolved.measure.energy)
    fit = partial(
        train,
        cfg=resolved.train,
        learning_rate=resolved.train.learning_rate,
        seed=resolved.seed,
        device=device,
        pad_id=tokenizer.pad_token_id,
        num_labels=dataset.num_labels,
        should_stop=stop.is_set,
    )

    def with_energy(point: Progress) -> None:
        row = dataclasses.asdict(point)
        row["energy_kwh"] = energy.so_far_kwh()
        progress(row)

    teacher_cost = {"wall_s": 0.0, "flops": 0.0}
    context.train_teacher = partial(_train_teacher, fit, encoded, device, flops is not None, teacher_cost, with_energy)
    context.teacher_logits = partial(
        _teacher_logits, encoded[0], tokenizer.pad_token_id, device, resolved, teacher_cost
    )
    context.load_run_model = partial(_load_run_model, store, dataset.label_names, resolved.model.name)

    with PeakMemory(device) as memory, OtherLoad() as other_load:
        with timer.phase("measure_energy"):
            energy.start()
        try:
            with timer.phase("techniques"):
                model = techniques.transform_model(model, context)
            _set_dropout(model, resolved.train.dropout)  # a distillation student may come from a reloaded teacher
            if not getattr(model, "is_quantized", False):  # bitsandbytes placed it at load (device_map)
                model.to(device)
            total_params, trainable_params = size.parameter_counts(model)
            embedding_params = size.embedding_parameter_count(model)
            context.measure = partial(
                _measure_model, encoded[2], tokenizer.pad_token_id, device, dataset.num_labels, resolved
            )
            context.time_steps = partial(
                _time_steps, encoded[0], resolved.train.batch_size, tokenizer.pad_token_id, device
            )
            outcome = fit(
                model,
                *encoded,
                timer=timer,
                flops=flops,
                on_progress=with_energy,
                techniques=techniques,
                context=context,
            )
        finally:
            with timer.phase("measure_energy"):
                reading = energy.stop()

    model = outcome.model  # after quantization, a new object
    metrics, prov, put = _sheet()
    test = outcome.test
    assert test is not None
    put("accuracy", test.accuracy, "measured", "scikit-learn accuracy_score on the test split, best validation epoch")
    put("macro_f1", test.macro_f1, "measured", "scikit-learn f1_score(average='macro') on the test split")
    put("test_loss", test.loss)
    student_s = timer.wall_s["train"]
    if teacher_cost["wall_s"]:
        put("train_wall_s", student_s + teacher_cost["wall_s"], "measured",
            "wall clock of the training steps, plus the distillation teacher's training and logits pass in this job")  # fmt: skip
        put("student_train_wall_s", student_s)
        put("teacher_wall_s", teacher_cost["wall_s"])
    else:
        put("train_wall_s", student_s, "measured", "wall clock (time.perf_counter) of the training steps")
    eval_s = timer.wall_s["eval"] + timer.wall_s["test"]
    put("eval_wall_s", eval_s, "measured", "wall clock of validation after each epoch plus the final test")
    put("valid_wall_s", timer.wall_s["eval"])
    put("test_wall_s", timer.wall_s["test"])
    put("setup_wall_s", timer.wall_s["load_data"] + timer.wall_s["load_model"] + timer.wall_s["tokenize"])
    put("train_examples_per_s", outcome.examples_seen / student_s if student_s else None)
    if flops is not None:
        put("train_flops", flops.train_flops + teacher_cost["flops"], "counted", flops.method)
        if teacher_cost["flops"]:
            put("teacher_flops", teacher_cost["flops"], "counted", flops.method + "; the teacher's training and logits")
        put("train_tokens", flops.tokens["train_forward"])
        put(
            "analytical_train_flops",
            analytical_train_flops(total_params - embedding_params, flops.tokens),
            "estimated",
            ANALYTICAL_METHOD,
        )
        put("train_forward_flops", flops.totals["train_forward"], "counted", flops.method)
        put("train_backward_flops", flops.totals["train_backward"], "counted", flops.method)
        put("eval_flops", flops.totals["eval_forward"], "counted", flops.method)
    else:
        put("train_flops", None, "counted", "not measured (--measure-flops off)")
    _put_energy(put, reading, resolved)
    put("peak_memory_mb", memory.peak_rss_mb, "measured", RSS_METHOD.format(interval_s=memory.interval_s))
    put("peak_memory_delta_mb", memory.delta_rss_mb, "measured", RSS_METHOD.format(interval_s=memory.interval_s))
    put("other_cpu_share", other_load.share, "measured", other_load.method)
    if memory.cuda_peak_mb is not None:
        put("cuda_peak_memory_mb", memory.cuda_peak_mb, "measured", CUDA_METHOD)
    put("total_params", total_params, "counted", "sum of parameter sizes")
    put("trainable_params", trainable_params, "counted", "sum of sizes of parameters with requires_grad")
    put("trainable_pct", 100 * trainable_params / total_params if total_params else None)
    with timer.phase("measure_size"):
        put("model_size_mb", size.saved_size_mb(model), "measured", size.METHOD)
    if resolved.measure.latency and len(encoded[2]):
        with timer.phase("measure_latency"):
            _put_latency(put, model, encoded[2], tokenizer.pad_token_id, device, resolved.measure.latency_repeats)
    put("phase_wall_s", dict(timer.wall_s))
    put("measurement_wall_s", sum(v for k, v in timer.wall_s.items() if k.startswith("measure_")))
    for f in dataclasses.fields(outcome):
        if f.name not in {"train_curve", "valid_curve", "test", "status", "model"}:
            metrics[f.name] = getattr(outcome, f.name)
    for name, enc in zip(("train", "valid", "test"), encoded, strict=True):
        metrics[f"truncated_{name}"] = enc.truncated
    put("max_length", max_length)
    put("learning_rate", resolved.train.learning_rate)
    put("label_names", dataset.label_names)
    put("confusion_matrix", test.confusion(dataset.num_labels))
    put("misclassified", _misclassified(dataset.test.texts, test.labels, test.predictions, dataset.label_names))
    put("dataset", dataset.summary())
    reports = techniques.reports()
    own_student = reports.get("distill", {}).get("student_source")
    put("model_source", f"{own_student} (student), distilled from {loaded.source}" if own_student else loaded.source)
    put("techniques", reports)
    metrics["provenance"] = prov
    metrics["_environment"] = {"energy": reading.details}

    model_path = None
    if resolved.save_model:
        try:
            model_path = _save_model(model, tokenizer, paths.models_dir() / f"run-{run_id}")
        except Exception as exc:  # the measurements are worth more than the weights: keep them, say why
            metrics["save_error"] = f"The trained model could not be kept: {type(exc).__name__}: {exc}"
    curves = {"train": outcome.train_curve, "valid": outcome.valid_curve}
    return metrics, curves, model_path, outcome.status, resolved.to_dict()


def _save_model(model: torch.nn.Module, tokenizer: Any, folder: Path) -> str:
    quantized = any("quantized" in type(m).__module__ for m in model.modules())
    # Heads cut out of some layers have no place in a transformers config (v5 dropped `pruned_heads`):
    # from_pretrained would rebuild full-size layers and refuse the weights.
    heads = getattr(getattr(model, "config", None), "num_attention_heads", None)
    sliced = any(getattr(m, "num_attention_heads", heads) != heads for m in model.modules())
    if hasattr(model, "save_pretrained") and not quantized and not sliced:
        model.save_pretrained(folder)  # a PEFT model left unmerged saves its adapter only
    else:  # transformers cannot save quantized Linear layers nor sliced heads: pickle the module
        folder.mkdir(parents=True, exist_ok=True)
        torch.save(model, folder / "model.pt")
    tokenizer.save_pretrained(folder)
    return str(folder)


def _set_dropout(model: torch.nn.Module, p: float | None) -> None:
    if p is None:
        return
    for module in model.modules():
        if isinstance(module, torch.nn.Dropout):
            module.p = p


def _sheet() -> tuple[dict[str, Any], dict[str, dict[str, str]], Callable[..., None]]:
    """A metrics dict, its provenance dict, and `put(key, value, kind, method)` that fills both."""
    metrics: dict[str, Any] = {}
    prov: dict[str, dict[str, str]] = {}

    def put(key: str, value: Any, kind: str | None = None, method: str | None = None) -> None:
        metrics[key] = value
        if kind is not None:
            prov[key] = Provenance(kind, method or "").to_dict()  # type: ignore[arg-type]

    return metrics, prov, put


def _train_teacher(
    fit: Callable[..., Any],
    encoded: list[Any],
    device: torch.device,
    count_flops: bool,
    cost: dict[str, float],
    report: Callable[[Progress], None],
    teacher: torch.nn.Module,
) -> tuple[torch.nn.Module, dict[str, Any]]:
    """Fine-tune the full model as a distillation teacher with the run's own loop; its cost goes into `cost`."""
    teacher.to(device)
    timer = PhaseTimer(device)
    meter = FlopMeter() if count_flops else None
    outcome = fit(
        teacher,
        *encoded,
        timer=timer,
        flops=meter,
        on_progress=lambda p: report(dataclasses.replace(p, phase="teacher")),
    )
    wall_s = sum(timer.wall_s.values())
    teacher_flops = (meter.train_flops + meter.totals["eval_forward"]) if meter else 0.0
    cost["wall_s"] += wall_s
    cost["flops"] += teacher_flops
    assert outcome.test is not None
    figures = {
        "accuracy": outcome.test.accuracy,
        "macro_f1": outcome.test.macro_f1,
        "wall_s": wall_s,
        "flops": teacher_flops,
        "status": outcome.status,
        "best_epoch": outcome.best_epoch,
    }
    return outcome.model, figures


def _teacher_logits(
    split: Any, pad_id: int, device: torch.device, resolved: RunConfig, cost: dict[str, float], teacher: torch.nn.Module
) -> tuple[torch.Tensor, dict[str, Any]]:
    """The teacher's logits on every training example, computed once (indexed by position in the split)."""
    import time

    from efficiency.measure.flops import spread_picks
    from efficiency.training import batch_order, collate, logits_of, mean_loss

    teacher.to(device).eval()
    order = batch_order(split.lengths, resolved.train.eval_batch_size, rng=None, bucket=True)
    widths = [max(split.lengths[i] for i in b) for b in order]
    start = time.perf_counter()
    logits = torch.zeros(len(split), teacher.config.num_labels)
    with torch.inference_mode():
        for indices in order:
            logits[indices] = logits_of(teacher, collate(split, indices, pad_id, device)).float().cpu()
    wall_s = time.perf_counter() - start
    flops = 0.0
    if resolved.measure.flops:
        meter = FlopMeter()
        meter.calibrate(
            teacher.train(), [collate(split, order[i], pad_id, device) for i in spread_picks(widths)], mean_loss
        )
        teacher.eval()
        flops = sum(meter.forward(len(b), w) for b, w in zip(order, widths, strict=True))
    cost["wall_s"] += wall_s
    cost["flops"] += flops
    return logits, {"logits_wall_s": wall_s, "logits_flops": flops}


def _load_run_model(store: RunStore, label_names: list[str], model_name: str, run_id: int) -> torch.nn.Module | None:
    """A kept, fully fine-tuned model of an earlier run, as a distillation teacher."""
    from transformers import AutoModelForSequenceClassification

    record = store.get(run_id)
    if record is None or record.status != "finished" or not record.model_path:
        return None
    if record.model != model_name:
        raise ConfigError(
            f"Run {run_id} trained '{record.model}', not '{model_name}': the teacher must be the same model."
        )
    reshaped = [t["name"] for t in record.config.get("techniques", []) if t["name"] in {"prune", "quant", "distill"}]
    if reshaped or (Path(record.model_path) / "adapter_config.json").exists():
        raise ConfigError(
            f"Run {run_id} kept a {'/'.join(reshaped) or 'adapter'} model, not a plain fine-tuned one: "
            "choose a full fine-tuning run as teacher."
        )
    model = AutoModelForSequenceClassification.from_pretrained(record.model_path)
    if [model.config.id2label[i] for i in range(model.config.num_labels)] != list(label_names):
        raise ConfigError(f"Run {run_id} was trained on other labels: choose a teacher from the same dataset.")
    return model


def _time_steps(
    split: Any, batch_size: int, pad_id: int, device: torch.device, model: torch.nn.Module, dtype: Any
) -> dict[str, float]:
    from efficiency.training import time_steps

    return time_steps(model, split, batch_size, pad_id, device, dtype)


def _measure_model(
    split: Any, pad_id: int, device: torch.device, num_labels: int, resolved: RunConfig, model: torch.nn.Module
) -> dict[str, float]:
    """Test accuracy, latency and size of `model`, measured as for the run: for before/after comparisons."""
    from efficiency.training import evaluate

    result = evaluate(model, split, resolved.train.eval_batch_size, pad_id, device, num_labels)
    figures: dict[str, float] = {"accuracy": result.accuracy, "macro_f1": result.macro_f1}
    figures["model_size_mb"] = size.saved_size_mb(model)
    if resolved.measure.latency and len(split):
        _put_latency(
            lambda key, value, *_: figures.__setitem__(key, value),
            model,
            split,
            pad_id,
            device,
            resolved.measure.latency_repeats,
        )
    return figures


def _put_energy(put: Callable[..., None], reading: EnergyReading, resolved: RunConfig) -> None:
    kind, method = reading.provenance.kind, reading.provenance.method
    put("energy_kwh", reading.energy_kwh, kind, method)
    put("energy_method", method)
    put("energy_kind", kind)
    put("cpu_energy_kwh", reading.cpu_energy_kwh)
    put("ram_energy_kwh", reading.ram_energy_kwh)
    put("gpu_energy_kwh", reading.gpu_energy_kwh)
    if reading.nvml_gpu_energy_kwh is not None:
        put("nvml_gpu_energy_kwh", reading.nvml_gpu_energy_kwh, "measured", NvmlEnergyCounter.METHOD)
    country = resolved.measure.country or "WORLD"
    intensity, source = intensity_g_per_kwh(country)
    put("country", country)
    put("carbon_intensity_g_per_kwh", intensity, "estimated", source)
    if reading.energy_kwh is not None:
        put(
            "co2_kg",
            co2_kg(reading.energy_kwh, country),
            "estimated",
            f"energy ({kind}) x {intensity:.0f} g CO2eq/kWh, {source}",
        )
    else:
        put("co2_kg", None, "estimated", "no energy figure to price")


def _put_latency(
    put: Callable[..., None], model: torch.nn.Module, split: Any, pad_id: int, device: torch.device, repeats: int
) -> None:
    from efficiency.training import collate

    model.eval()
    examples = list(range(min(LATENCY_EXAMPLES, len(split))))

    @torch.inference_mode()
    def run_batch(indices: list[int]) -> None:
        batch = collate(split, indices, pad_id, device)
        model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])

    sync = latency.sync_for(device)
    method = latency.METHOD.format(n=len(examples), warmup=1, repeats=repeats)
    for batch_size, key in ((1, "latency_ms_b1"), (LATENCY_EXAMPLES, "latency_ms_b32")):
        value = latency.time_per_example_ms(run_batch, examples, batch_size, repeats, warmup=1, sync=sync)
        put(key, value, "measured", method)


def _misclassified(
    texts: list[str], labels: list[int], predictions: list[int], names: list[str]
) -> list[dict[str, str]]:
    wrong = [i for i, (y, p) in enumerate(zip(labels, predictions, strict=True)) if y != p]
    return [
        {"text": texts[i][:300], "label": names[labels[i]], "predicted": names[predictions[i]]}
        for i in wrong[:MISCLASSIFIED_SHOWN]
    ]


def _execute_tfidf(
    resolved: RunConfig,
    dataset: Any,
    device: torch.device,
    timer: PhaseTimer,
    stop: threading.Event,
    say: StatusFn,
    run_id: int,
) -> tuple[dict[str, Any], dict[str, Any], str | None, str, dict[str, Any]]:
    """The classical baseline, measured the same way (its FLOPs are not counted: no torch operators run)."""
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score

    from efficiency import baselines

    cpu = torch.device("cpu")
    energy = EnergyMeter(cpu, enabled=resolved.measure.energy)
    pipeline = baselines.make_pipeline(resolved.seed)
    with PeakMemory(cpu) as memory:
        energy.start()
        try:
            with timer.phase("train"):
                baselines.fit(pipeline, dataset.train)
            with timer.phase("test"):
                predictions = baselines.predict(pipeline, dataset.test.texts)
        finally:
            reading = energy.stop()
    labels = dataset.test.labels
    n = dataset.num_labels
    metrics, prov, put = _sheet()
    put(
        "accuracy",
        float(accuracy_score(labels, predictions)),
        "measured",
        "scikit-learn accuracy_score on the test split",
    )
    put("macro_f1", float(f1_score(labels, predictions, average="macro", labels=list(range(n)), zero_division=0)),
        "measured", "scikit-learn f1_score(average='macro') on the test split")  # fmt: skip
    put("train_wall_s", timer.wall_s["train"], "measured", "wall clock of fitting TF-IDF and logistic regression")
    put("eval_wall_s", timer.wall_s["test"], "measured", "wall clock of predicting the test split")
    put("train_flops", None, "counted", "not counted: scikit-learn runs no torch operators")
    _put_energy(put, reading, resolved)
    put("peak_memory_mb", memory.peak_rss_mb, "measured", RSS_METHOD.format(interval_s=memory.interval_s))
    params = baselines.parameter_count(pipeline)
    put("total_params", params, "counted", "logistic-regression weights and biases")
    put("trainable_params", params, "counted", "logistic-regression weights and biases")
    put("vocabulary_size", baselines.vocabulary_size(pipeline))
    put("model_size_mb", baselines.saved_size_mb(pipeline), "measured", "size of the pickled pipeline")
    texts = dataset.test.texts[:LATENCY_EXAMPLES]
    if resolved.measure.latency and texts:
        method = latency.METHOD.format(n=len(texts), warmup=1, repeats=resolved.measure.latency_repeats)
        for batch_size, key in ((1, "latency_ms_b1"), (LATENCY_EXAMPLES, "latency_ms_b32")):
            value = latency.time_per_example_ms(
                lambda idx: pipeline.predict([texts[i] for i in idx]),
                list(range(len(texts))), batch_size, resolved.measure.latency_repeats, warmup=1,
            )  # fmt: skip
            put(key, value, "measured", method)
    put("examples_seen", len(dataset.train))
    put("label_names", dataset.label_names)
    put("confusion_matrix", confusion_matrix(labels, predictions, labels=list(range(n))).tolist())
    put("misclassified", _misclassified(dataset.test.texts, labels, predictions, dataset.label_names))
    put("dataset", dataset.summary())
    put("model_source", "scikit-learn TF-IDF (word 1-2, char 2-5 grams) + logistic regression")
    put("techniques", {})
    metrics["provenance"] = prov
    metrics["_environment"] = {"energy": reading.details}
    model_path = None
    if resolved.save_model:
        model_path = baselines.save(pipeline, dataset.label_names, paths.models_dir() / f"run-{run_id}")
    return metrics, {"train": [], "valid": []}, model_path, "finished", resolved.to_dict()


def stop_on_signals(stop: threading.Event) -> None:
    """SIGTERM and SIGINT set the stop flag: the run ends at its next step and keeps what it measured."""
    import signal

    def handler(signum: int, _frame: Any) -> None:
        if stop.is_set():  # a second Ctrl-C means: now
            raise KeyboardInterrupt
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


__all__ = ["RunResult", "resolve_defaults", "run_experiment", "stop_on_signals"]
