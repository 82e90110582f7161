"""The fine-tuning recipe, read top to bottom: model, examples, fit, measure, keep.

Techniques act in their fixed order: the data stage before tokenising; the model's shape and its
adapters inside the energy window (a distillation teacher trained in the job is charged to the
run); precision and the after-training hooks are called by the training loop.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import torch

from efficiency import paths
from efficiency.batching import EncodedSplit, collate, encode
from efficiency.errors import ConfigError
from efficiency.measure import batch_choice, latency, size
from efficiency.measure.busy import OtherLoad
from efficiency.measure.energy import EnergyMeter, EnergyReading
from efficiency.measure.flops import ANALYTICAL_METHOD, FlopMeter, analytical_train_flops
from efficiency.measure.memory import CUDA_METHOD, RSS_METHOD, PeakMemory
from efficiency.model_files import check_max_length
from efficiency.models import LoadedModel, load_classifier
from efficiency.runs import disk_cap, teacher
from efficiency.runs.keep import save_model
from efficiency.runs.recipe import Prepared, RecipeResult, RunHooks
from efficiency.runs.sheet import Sheet, latency_figures
from efficiency.techniques.base import TechniqueContext
from efficiency.training import Progress, TrainOutcome, evaluate, seed_everything, time_steps, train

# TrainOutcome fields that are not plain figures of the run record.
NOT_FIGURES = {"train_curve", "valid_curve", "test", "status", "model"}


@dataclass
class Examples:
    """The three splits, tokenised once and unpadded."""

    train: EncodedSplit
    valid: EncodedSplit
    test: EncodedSplit

    def splits(self) -> tuple[EncodedSplit, EncodedSplit, EncodedSplit]:
        return self.train, self.valid, self.test


@dataclass
class Fitted:
    """What the fit step leaves to measure: the loop's outcome and the meters that watched it."""

    outcome: TrainOutcome
    flops: FlopMeter | None
    energy: EnergyReading
    memory: PeakMemory
    other_load: OtherLoad
    total_params: int
    trainable_params: int
    embedding_params: int
    teacher_cost: teacher.TeacherCost


def run(prepared: Prepared, hooks: RunHooks) -> RecipeResult:
    """Fine-tune a transformer with the configured techniques and measure everything with its provenance."""
    loaded = load_model(prepared)
    context = TechniqueContext(run=prepared.config, device=prepared.device, tokenizer=loaded.tokenizer,
                               label_names=prepared.dataset.label_names, seed=prepared.config.seed)  # fmt: skip
    examples = prepare_examples(prepared, loaded, context, hooks)
    fitted = fit(prepared, loaded, examples, context, hooks)
    sheet = measure(prepared, loaded, examples, fitted)
    model_path = keep(prepared, fitted.outcome.model, loaded, sheet, hooks)
    curves = {"train": fitted.outcome.train_curve, "valid": fitted.outcome.valid_curve}
    return RecipeResult(fitted.outcome.status, prepared.config, sheet.record(), curves, model_path,
                        {"energy": fitted.energy.details})  # fmt: skip


def load_model(prepared: Prepared) -> LoadedModel:
    """The pretrained model with a fresh classification head (quantized at load for QLoRA), and its tokenizer."""
    config = prepared.config
    seed_everything(config.seed)
    with prepared.timer.phase("load_model"):
        loaded = load_classifier(
            config.model.name, prepared.dataset.label_names, config.seed, prepared.techniques.load_options()
        )
    if loaded.tokenizer.pad_token_id is None:
        raise ConfigError(f"The tokenizer of '{config.model.name}' has no padding token: choose another model.")
    # A Hub model not in the cache when the config was checked: its position limit is known only now.
    check_max_length(config.model.name, config.data.max_length, loaded.model.config.to_dict())
    set_dropout(loaded.model, config.train.dropout)
    return loaded


def prepare_examples(prepared: Prepared, loaded: LoadedModel, context: TechniqueContext, hooks: RunHooks) -> Examples:
    """The data stage of the techniques (filtering), then each split tokenised once."""
    dataset, timer, max_length = prepared.dataset, prepared.timer, prepared.config.data.max_length
    assert max_length is not None  # resolved by `prepare`
    with timer.phase("techniques"):
        dataset.train = prepared.techniques.filter_data(dataset.train, context)
    with timer.phase("tokenize"):
        examples = Examples(
            *(encode(loaded.tokenizer, s, max_length) for s in (dataset.train, dataset.valid, dataset.test))
        )
    hooks.say(
        f"{dataset.name}: {len(dataset.train)} train / {len(dataset.valid)} valid / {len(dataset.test)} test examples"
    )
    return examples


def fit(
    prepared: Prepared, loaded: LoadedModel, examples: Examples, context: TechniqueContext, hooks: RunHooks
) -> Fitted:
    """The model's techniques and the training loop, inside the energy and memory window."""
    config, device, timer = prepared.config, prepared.device, prepared.timer
    pad_id = loaded.tokenizer.pad_token_id
    flops = FlopMeter() if config.measure.flops else None
    energy = EnergyMeter(device, enabled=config.measure.energy)
    loop = partial(train, cfg=config.train, learning_rate=config.train.learning_rate, seed=config.seed, device=device,
                   pad_id=pad_id, num_labels=prepared.dataset.num_labels, should_stop=hooks.stop.is_set)  # fmt: skip

    def with_energy(point: Progress) -> None:
        hooks.progress({**dataclasses.asdict(point), "energy_kwh": energy.so_far_kwh()})

    cost = teacher.TeacherCost()
    context.train_teacher = partial(teacher.train_teacher, loop, examples.splits(), device, flops is not None, cost,
                                    with_energy)  # fmt: skip
    context.teacher_logits = partial(teacher.teacher_logits, examples.train, pad_id, device,
                                     config.train.eval_batch_size, config.measure.flops, cost)  # fmt: skip
    context.load_run_model = partial(
        teacher.load_run_model, hooks.store, prepared.dataset.label_names, config.model.name
    )
    context.measure = partial(measure_model, prepared, examples.test, pad_id)
    context.time_steps = lambda model, dtype: time_steps(model, examples.train, config.train.batch_size, pad_id,
                                                         device, dtype)  # fmt: skip

    with PeakMemory(device) as memory, OtherLoad() as other_load:
        with timer.phase("measure_energy"):
            energy.start()
        try:
            with timer.phase("techniques"):
                model = prepared.techniques.transform_model(loaded.model, context)
            set_dropout(model, config.train.dropout)  # a distillation student may come from a reloaded teacher
            if not getattr(model, "is_quantized", False):  # bitsandbytes placed it at load (device_map)
                model.to(device)
            total_params, trainable_params = size.parameter_counts(model)
            embedding_params = size.embedding_parameter_count(model)
            if config.train.measure_batch_size:
                choose_batch_size(prepared, model, examples.train, pad_id, hooks)
                memory.restart()  # the sweep's largest batches are not the run's: training's peak is reported
            outcome = loop(model, *examples.splits(), timer=timer, flops=flops, on_progress=with_energy,
                           techniques=prepared.techniques, context=context)  # fmt: skip
        finally:
            with timer.phase("measure_energy"):
                reading = energy.stop()
    return Fitted(outcome, flops, reading, memory, other_load, total_params, trainable_params, embedding_params, cost)


def choose_batch_size(
    prepared: Prepared, model: torch.nn.Module, train_split: EncodedSplit, pad_id: int, hooks: RunHooks
) -> None:
    """Time training steps of this model on this device, then train with the chosen batch size.

    Inside the run's energy window (the timing is part of its cost); the choice goes into the stored
    config, so the run reproduces without measuring again, and the sweep onto the run's sheet (`batch_choice`).
    """
    device, train_cfg = prepared.device, prepared.config.train
    with prepared.timer.phase("measure_batch_size"):
        choice = batch_choice.for_run(model, train_split, pad_id, device, prepared.techniques.autocast_dtype(device))
    train_cfg.batch_size, train_cfg.measure_batch_size = choice.batch_size, False
    prepared.batch_choice = {"batch_size": choice.batch_size, "reason": choice.reason, "sweep": choice.rows}
    hooks.store.update_config(hooks.run_id, prepared.config.to_dict())
    hooks.say(f"Batch size {choice.batch_size}, measured on {device.type}: {choice.reason}.")


def measure(prepared: Prepared, loaded: LoadedModel, examples: Examples, fitted: Fitted) -> Sheet:
    """Every figure of the run on one sheet, each with its provenance."""
    config, dataset, timer, outcome = prepared.config, prepared.dataset, prepared.timer, fitted.outcome
    test = outcome.test
    assert test is not None
    sheet = Sheet()
    sheet.test_predictions(dataset.test.texts, test.labels, test.predictions, dataset.label_names,
                           where=", best validation epoch")  # fmt: skip
    sheet.put("test_loss", test.loss)
    put_times(sheet, timer.wall_s, outcome, fitted.teacher_cost)
    put_flops(sheet, fitted)
    sheet.energy(fitted.energy, config.measure.country or "WORLD")
    put_memory(sheet, fitted)
    model = outcome.model  # after quantization, a new object
    with timer.phase("measure_size"):
        sheet.put("model_size_mb", size.saved_size_mb(model), "measured", size.METHOD)
    if config.measure.latency and len(examples.test):
        with timer.phase("measure_latency"):
            run_batch = batch_runner(model, examples.test, loaded.tokenizer.pad_token_id, prepared.device)
            sheet.latency(
                run_batch, len(examples.test), config.measure.latency_repeats, latency.sync_for(prepared.device)
            )
    sheet.put("phase_wall_s", dict(timer.wall_s))
    sheet.put("measurement_wall_s", sum(v for k, v in timer.wall_s.items() if k.startswith("measure_")))
    for f in dataclasses.fields(outcome):
        if f.name not in NOT_FIGURES:
            sheet.put(f.name, getattr(outcome, f.name))
    for name, split in zip(("train", "valid", "test"), examples.splits(), strict=True):
        sheet.put(f"truncated_{name}", split.truncated)
    sheet.put("max_length", config.data.max_length)
    sheet.put("learning_rate", config.train.learning_rate)
    if prepared.batch_choice is not None:
        sheet.put("batch_choice", prepared.batch_choice, "measured", "training steps timed on this device")
    sheet.put("dataset", dataset.summary())
    reports = prepared.techniques.reports()
    own_student = next((r["student_source"] for r in reports.values() if r.get("student_source")), None)
    sheet.put(
        "model_source", f"{own_student} (student), distilled from {loaded.source}" if own_student else loaded.source
    )
    sheet.put("model_revision", loaded.revision)  # the Hub commit the weights came from (None: not from the Hub)
    sheet.put("techniques", reports)
    return sheet


def put_times(sheet: Sheet, wall_s: dict[str, float], outcome: TrainOutcome, cost: teacher.TeacherCost) -> None:
    student_s = wall_s["train"]
    if cost.wall_s:
        sheet.put("train_wall_s", student_s + cost.wall_s, "measured",
                  "wall clock of the training steps, plus the distillation teacher's training and logits pass in this job")  # fmt: skip
        sheet.put("student_train_wall_s", student_s)
        sheet.put("teacher_wall_s", cost.wall_s)
    else:
        sheet.put("train_wall_s", student_s, "measured", "wall clock (time.perf_counter) of the training steps")
    sheet.put("eval_wall_s", wall_s["eval"] + wall_s["test"], "measured",
              "wall clock of validation after each epoch plus the final test")  # fmt: skip
    sheet.put("valid_wall_s", wall_s["eval"])
    sheet.put("test_wall_s", wall_s["test"])
    sheet.put("setup_wall_s", wall_s["load_data"] + wall_s["load_model"] + wall_s["tokenize"])
    sheet.put("train_examples_per_s", outcome.examples_seen / student_s if student_s else None)


def put_flops(sheet: Sheet, fitted: Fitted) -> None:
    flops, cost = fitted.flops, fitted.teacher_cost
    if flops is None:
        sheet.put("train_flops", None, "counted", "not measured (--measure-flops off)")
        return
    sheet.put("train_flops", flops.train_flops + cost.flops, "counted", flops.method)
    if cost.flops:
        sheet.put("teacher_flops", cost.flops, "counted", flops.method + "; the teacher's training and logits")
    sheet.put("train_tokens", flops.tokens["train_forward"])
    non_embedding = fitted.total_params - fitted.embedding_params
    sheet.put("analytical_train_flops", analytical_train_flops(non_embedding, flops.tokens), "estimated",
              ANALYTICAL_METHOD)  # fmt: skip
    sheet.put("train_forward_flops", flops.totals["train_forward"], "counted", flops.method)
    sheet.put("train_backward_flops", flops.totals["train_backward"], "counted", flops.method)
    sheet.put("eval_flops", flops.totals["eval_forward"], "counted", flops.method)


def put_memory(sheet: Sheet, fitted: Fitted) -> None:
    memory, rss_method = fitted.memory, RSS_METHOD.format(interval_s=fitted.memory.interval_s)
    sheet.put("peak_memory_mb", memory.peak_rss_mb, "measured", rss_method)
    sheet.put("peak_memory_delta_mb", memory.delta_rss_mb, "measured", rss_method)
    sheet.put("other_cpu_share", fitted.other_load.share, "measured", fitted.other_load.method)
    if memory.cuda_peak_mb is not None:
        sheet.put("cuda_peak_memory_mb", memory.cuda_peak_mb, "measured", CUDA_METHOD)
    total, trainable = fitted.total_params, fitted.trainable_params
    sheet.put("total_params", total, "counted", "sum of parameter sizes")
    sheet.put("trainable_params", trainable, "counted", "sum of sizes of parameters with requires_grad")
    sheet.put("trainable_pct", 100 * trainable / total if total else None)


def measure_model(prepared: Prepared, split: EncodedSplit, pad_id: int, model: torch.nn.Module) -> dict[str, float]:
    """Test accuracy, latency and size of `model`, measured as for the run: for before/after comparisons."""
    config, device = prepared.config, prepared.device
    result = evaluate(model, split, config.train.eval_batch_size, pad_id, device, prepared.dataset.num_labels)
    figures: dict[str, float] = {"accuracy": result.accuracy, "macro_f1": result.macro_f1}
    figures["model_size_mb"] = size.saved_size_mb(model)
    if config.measure.latency and len(split):
        run_batch = batch_runner(model, split, pad_id, device)
        timed, _method = latency_figures(
            run_batch, len(split), config.measure.latency_repeats, latency.sync_for(device)
        )
        figures.update(timed)
    return figures


def batch_runner(
    model: torch.nn.Module, split: EncodedSplit, pad_id: int, device: torch.device
) -> Callable[[list[int]], None]:
    """Inference on the examples at these positions of `split`: what the latency timer times."""
    model.eval()

    @torch.inference_mode()
    def run_batch(indices: list[int]) -> None:
        batch = collate(split, indices, pad_id, device)
        model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])

    return run_batch


def keep(prepared: Prepared, model: torch.nn.Module, loaded: LoadedModel, sheet: Sheet, hooks: RunHooks) -> str | None:
    """Keep the trained weights when asked and the teacher's disk cap allows; a failure loses no measurement."""
    if not prepared.config.save_model:
        return None
    refused = disk_cap.make_room(hooks.store, sheet.metrics.get("model_size_mb") or 0.0)
    if refused:
        sheet.put("save_error", refused)
        return None
    try:
        folder = paths.models_dir() / f"run-{hooks.run_id}"
        return save_model(model, loaded.tokenizer, folder, prepared.config, prepared.techniques)
    except Exception as exc:  # the measurements are worth more than the weights: keep them, say why
        sheet.put("save_error", f"The trained model could not be kept: {type(exc).__name__}: {exc}")
        return None


def set_dropout(model: torch.nn.Module, p: float | None) -> None:
    if p is None:
        return
    for module in model.modules():
        if isinstance(module, torch.nn.Dropout):
            module.p = p
