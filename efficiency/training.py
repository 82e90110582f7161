"""The training engine: one loop, read top to bottom.

config -> tokenised splits -> length-bucketed batches -> AdamW with linear warm-up and decay ->
validation each epoch (the best epoch is kept) -> test with the best weights.

Our own loop rather than the Hugging Face Trainer, because the techniques need per-example
losses, skipped backward passes and teacher logits. Length bucketing is what makes it fast on a
CPU: a batch of similar lengths pads little, so far fewer tokens go through the model.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score

from efficiency.batching import Batch, EncodedSplit, batch_order, batches, collate, logits_of, mean_loss
from efficiency.config import TrainConfig
from efficiency.measure.flops import FlopMeter, spread_picks
from efficiency.measure.latency import sync_for
from efficiency.measure.timer import PhaseTimer
from efficiency.techniques import Pipeline
from efficiency.techniques.base import TechniqueContext


# --- seeds -----------------------------------------------------------------------------------
def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


# --- the device -------------------------------------------------------------------------------
LOSS_READ_EVERY = 20  # steps between reads of the loss on an accelerator: each read waits for the device


def loss_read_every(device: torch.device) -> int:
    """Steps between reads of the training loss: every step on a CPU (a read costs nothing there).

    On a GPU reading a loss waits until the device has caught up with the host; reading every step
    keeps the host from queueing the next step's kernels while the GPU runs, and a small model then
    leaves the GPU idle between steps. The live curve still gets every step's loss, a few steps late.
    """
    return 1 if device.type == "cpu" else LOSS_READ_EVERY


def attention_kernels(device: torch.device) -> AbstractContextManager[Any]:
    """Scaled-dot-product attention without cuDNN's kernel on CUDA.

    torch sends masked 16-bit attention to cuDNN first on recent GPUs, and cuDNN builds a plan for
    every new batch shape (a fraction of a second each): with dynamic padding nearly every step has a
    new shape. On an H200 (README) amp's training ran 7x slower than fp32 before this. FlashAttention
    and the memory-efficient kernel take any shape at once.
    """
    if device.type != "cuda":
        return nullcontext()
    from torch.nn.attention import SDPBackend, sdpa_kernel

    return sdpa_kernel([SDPBackend.FLASH_ATTENTION, SDPBackend.EFFICIENT_ATTENTION, SDPBackend.MATH])


# --- progress ---------------------------------------------------------------------------------
@dataclass
class Progress:
    """What the loop reports after every step (and at phase changes)."""

    phase: str  # train | validate | test
    step: int
    total_steps: int
    epoch: float
    loss: float | None
    examples_seen: int
    examples_per_s: float
    eta_s: float | None
    elapsed_s: float  # since training began: training steps plus validation
    flops: float


ProgressFn = Callable[[Progress], None]
StopFn = Callable[[], bool]


# --- evaluation -------------------------------------------------------------------------------
@dataclass
class EvalResult:
    loss: float
    accuracy: float
    macro_f1: float
    predictions: list[int]
    labels: list[int]

    def confusion(self, num_labels: int) -> list[list[int]]:
        return confusion_matrix(self.labels, self.predictions, labels=list(range(num_labels))).tolist()


def time_steps(
    model: torch.nn.Module,
    split: EncodedSplit,
    batch_size: int,
    pad_id: int,
    device: torch.device,
    dtype: torch.dtype | None,
    steps: int = 5,
) -> dict[str, float]:
    """One training step's forward and backward pass on a batch of median length, in fp32 or autocast(dtype).

    The median of `steps` timed passes after one warm-up; the weights do not change (no optimiser
    step, gradients cleared). The backward pass runs through every layer, as in training, even when
    only a few weights still train (an adapter merged after training leaves the head): the input
    embeddings are made to need a gradient. On CUDA also the memory the forward pass holds for the
    backward one (activations). For amp's before/after figures: same model and batch, other precision.
    """
    lengths = split.lengths
    order = sorted(range(len(split)), key=lengths.__getitem__)
    middle = max(0, len(order) // 2 - batch_size // 2)
    batch = collate(split, order[middle : middle + batch_size], pad_id, device)
    context = partial(torch.autocast, device_type=device.type, dtype=dtype) if dtype is not None else nullcontext
    embed = model.get_input_embeddings()
    synchronize = sync_for(device)
    was_training = model.training
    model.train()
    times, held = [], []
    try:
        with attention_kernels(device):
            for i in range(steps + 1):
                synchronize()
                before = torch.cuda.memory_allocated(device) if device.type == "cuda" else 0
                started = time.perf_counter()
                with context():
                    inputs = embed(batch["input_ids"]).detach().requires_grad_()
                    logits = model(inputs_embeds=inputs, attention_mask=batch["attention_mask"]).logits
                    loss = F.cross_entropy(logits.float(), batch["labels"])
                if device.type == "cuda":
                    held.append(torch.cuda.memory_allocated(device) - before)
                loss.backward()
                synchronize()
                if i:  # the first pass warms caches and kernels up
                    times.append(time.perf_counter() - started)
                model.zero_grad(set_to_none=True)
                del inputs, logits, loss
    finally:
        model.train(was_training)
    figures = {"step_ms": 1000 * float(np.median(times)), "tokens_per_batch": float(batch["input_ids"].numel())}
    if held:
        figures["activation_memory_mb"] = float(np.median(held)) / 2**20
    return figures


@torch.inference_mode()
def evaluate(
    model: torch.nn.Module,
    split: EncodedSplit,
    batch_size: int,
    pad_id: int,
    device: torch.device,
    num_labels: int,
    flops: FlopMeter | None = None,
    autocast: Callable[[], Any] = nullcontext,
) -> EvalResult:
    model.eval()
    # Sorted by length: evaluation order does not matter, padding does. Losses and predictions stay on
    # the device until the end: one read, not one per batch.
    order = batch_order(split.lengths, batch_size, rng=None, bucket=True)
    total_loss = torch.zeros((), device=device)
    predicted = []
    with attention_kernels(device):
        for batch in batches(split, order, pad_id, device):
            with autocast():
                logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits.float()
            total_loss += F.cross_entropy(logits, batch["labels"], reduction="sum")
            predicted.append(logits.argmax(-1))
            if flops is not None:
                flops.add_eval_batch(*batch["input_ids"].shape)
    predictions = [0] * len(split)
    if predicted:
        for i, p in zip((i for b in order for i in b), torch.cat(predicted).tolist(), strict=True):
            predictions[i] = p
    labels = split.labels
    return EvalResult(
        loss=float(total_loss) / max(len(split), 1),
        accuracy=float(accuracy_score(labels, predictions)),
        macro_f1=float(f1_score(labels, predictions, average="macro", labels=list(range(num_labels)), zero_division=0)),
        predictions=predictions,
        labels=list(labels),
    )


# --- the loop ---------------------------------------------------------------------------------
@dataclass
class TrainOutcome:
    status: str  # finished | stopped
    stop_reason: str | None
    stopped_at: str | None
    epochs_run: float
    best_epoch: int | None
    steps: int  # batches consumed
    examples_seen: int  # examples the optimiser stepped on
    tokens_seen: int  # real tokens (no padding)
    padded_tokens: int  # tokens the model actually processed, padding included
    train_curve: list[dict[str, float]] = field(default_factory=list)
    valid_curve: list[dict[str, float]] = field(default_factory=list)
    test: EvalResult | None = None
    optimizer_steps: int = 0
    model: Any = field(default=None, repr=False, compare=False)  # the tested model; not part of the record


def train(
    model: torch.nn.Module,
    train_split: EncodedSplit,
    valid_split: EncodedSplit,
    test_split: EncodedSplit,
    cfg: TrainConfig,
    learning_rate: float,
    seed: int,
    device: torch.device,
    pad_id: int,
    num_labels: int,
    timer: PhaseTimer,
    flops: FlopMeter | None = None,
    on_progress: ProgressFn | None = None,
    should_stop: StopFn | None = None,
    techniques: Pipeline | None = None,
    context: TechniqueContext | None = None,
) -> TrainOutcome:
    """Fine-tune `model` in place, keep the best validation epoch, apply after-training techniques, test.

    The model that was tested (after quantization it is a new object) is `outcome.model`.

    One long function on purpose (nanoGPT's train.py is the model): the loop reads top to bottom in its
    fixed order, and splitting it would scatter the state every step shares (optimiser, scaler, timer).
    """
    techniques = techniques or Pipeline([])
    autocast = partial(techniques.autocast, device)
    scaler = techniques.grad_scaler(device)
    seed_everything(seed)
    rng = np.random.default_rng(seed)
    steps_per_epoch = math.ceil(len(train_split) / cfg.batch_size)
    total_steps = steps_per_epoch * cfg.epochs
    warmup_steps = int(cfg.warmup_ratio * total_steps)

    params = [p for p in model.parameters() if p.requires_grad]
    decay = [p for p in params if p.ndim >= 2]  # no weight decay on biases and layer norms
    no_decay = [p for p in params if p.ndim < 2]
    # foreach AdamW makes about ten passes over every weight and its two moments, fused AdamW one: on a CPU
    # foreach took 15% of an fp32 step of MiniLM (README), more where matrix products are fast, a share
    # mixed precision cannot shrink. A technique asks for the fused step (amp); fp32 runs keep foreach, so
    # their results stay exactly as they were (fused rounds differently).
    kernel = {"fused": True} if techniques.fused_optimizer(device) else {"foreach": True}
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=learning_rate,
        **kernel,
    )

    def lr_at(step: int) -> float:  # linear warm-up to the peak, then linear decay to 0
        if step < warmup_steps:
            return learning_rate * (step + 1) / warmup_steps
        return learning_rate * max(0.0, (total_steps - step) / max(1, total_steps - warmup_steps))

    if flops is not None:
        # Count a few real batches exactly (shortest, middle, longest) and fit the per-shape model.
        order = batch_order(train_split.lengths, cfg.batch_size, np.random.default_rng(seed), cfg.length_buckets)
        widths = [max(train_split.lengths[i] for i in b) for b in order]
        model.train()
        with timer.phase("measure_flops"):
            probes = [collate(train_split, order[i], pad_id, device) for i in spread_picks(widths)]
            flops.calibrate(model, probes, mean_loss)

    outcome = TrainOutcome("finished", None, None, 0.0, None, 0, 0, 0, 0)
    best_f1, best_state = -1.0, None
    step, stop_reason = 0, None
    loss_value: float | None = None
    started = time.perf_counter()
    selector = techniques.selector(train_split, pad_id, device, autocast, flops)
    keep_last = techniques.keep_last_epoch()  # gradual pruning: earlier epochs were not yet at the target sparsity

    def optimise(batch: Batch) -> torch.Tensor:
        """One optimiser step on `batch`: forward, per-example losses, backward, clip, step."""
        with autocast():
            losses = techniques.example_losses(logits_of(model, batch), batch)
        loss = losses.mean()
        if scaler is not None:  # fp16 only: scale the loss so small gradients do not underflow
            scaler.scale(loss).backward()
            scaler.unscale_(optimizer)
        else:
            loss.backward()
        if cfg.max_grad_norm > 0:
            torch.nn.utils.clip_grad_norm_(params, cfg.max_grad_norm)
        if scaler is not None:
            scaler.step(optimizer)
            scaler.update()
        else:
            optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        techniques.on_step(step, total_steps, model)
        b, t = batch["input_ids"].shape
        outcome.optimizer_steps += 1
        outcome.examples_seen += b
        outcome.tokens_seen += int(batch["length"].sum())  # host lengths: no wait for the device
        outcome.padded_tokens += b * t
        if flops is not None:
            flops.add_train_step(b, t)
        if selector is not None:
            selector.observe(batch, losses.detach())
        return loss

    # Each step's point waits here, its loss still on the device, until the next read (loss_read_every).
    pending: list[tuple[Progress, torch.Tensor | None]] = []
    read_every = loss_read_every(device)
    point: Progress | None = None

    def publish() -> None:
        """Read the waiting losses in one go, then record and report each step in order."""
        nonlocal loss_value, point
        waiting = [loss for _, loss in pending if loss is not None]
        values = iter(torch.stack(waiting).float().tolist() if waiting else [])
        for step_point, loss in pending:
            if loss is not None:
                loss_value = next(values)
            point = replace(step_point, loss=loss_value)
            outcome.train_curve.append(
                {k: getattr(point, k) for k in ("step", "epoch", "loss", "examples_seen", "flops", "elapsed_s")}
            )
            if on_progress:
                on_progress(point)
        pending.clear()

    train_s_before = 0.0  # training time of the finished epochs (validation excluded)
    for epoch in range(cfg.epochs):
        model.train()
        epoch_started = time.perf_counter()
        order = batch_order(train_split.lengths, cfg.batch_size, rng, cfg.length_buckets)
        with timer.phase("train"), attention_kernels(device):
            for batch in batches(train_split, order, pad_id, device):
                stop_reason = _stop_reason(should_stop, cfg, time.perf_counter() - started)
                if stop_reason:
                    break
                for group in optimizer.param_groups:
                    group["lr"] = lr_at(step)
                step += 1  # batches consumed: drives the schedule and the progress bar
                if selector is not None:  # data filtering in the loop: may score, queue or skip examples
                    batch = selector.offer(batch, model, epoch, step - epoch * steps_per_epoch, steps_per_epoch)
                loss = optimise(batch).detach() if batch is not None else None
                now = time.perf_counter()
                elapsed, train_s = now - started, train_s_before + now - epoch_started
                pending.append(
                    (
                        Progress(
                            phase="train",
                            step=step,
                            total_steps=total_steps,
                            epoch=step / steps_per_epoch,
                            loss=None,
                            examples_seen=outcome.examples_seen,
                            examples_per_s=outcome.examples_seen / train_s if train_s > 0 else 0.0,
                            eta_s=elapsed / step * (total_steps - step),
                            elapsed_s=elapsed,
                            flops=flops.train_flops if flops else 0.0,
                        ),
                        loss,
                    )
                )
                if len(pending) >= read_every:
                    publish()
            publish()
        train_s_before += time.perf_counter() - epoch_started
        if selector is not None and not stop_reason:
            with timer.phase("train"), attention_kernels(device):
                leftover = selector.flush()
                if leftover is not None:
                    loss_value = float(optimise(leftover).detach())
        outcome.epochs_run = step / steps_per_epoch
        if stop_reason and step < (epoch + 1) * steps_per_epoch:
            break  # a partial epoch is not validated: the best full epoch so far is kept
        with timer.phase("eval"):
            result = evaluate(model, valid_split, cfg.eval_batch_size, pad_id, device, num_labels, flops, autocast)
        outcome.valid_curve.append(
            {
                "epoch": epoch + 1,
                "step": step,
                "loss": result.loss,
                "accuracy": result.accuracy,
                "macro_f1": result.macro_f1,
            }
        )
        if on_progress and point is not None:
            on_progress(replace(point, phase="validate"))
        if result.macro_f1 > best_f1 or keep_last:
            best_f1, outcome.best_epoch = result.macro_f1, epoch + 1
            best_state = trained_weights(model)

    if stop_reason:
        outcome.status, outcome.stop_reason = "stopped", stop_reason
        outcome.stopped_at = f"step {step} of {total_steps} (epoch {step / steps_per_epoch:.2f} of {cfg.epochs})"
    outcome.steps = step
    if best_state is not None:
        restore_weights(model, best_state)
    if context is not None:
        with timer.phase("after_training"):
            model = techniques.after_training(model, context)
    with timer.phase("test"):
        outcome.test = evaluate(model, test_split, cfg.eval_batch_size, pad_id, device, num_labels, flops, autocast)
    outcome.model = model
    return outcome


def trained_weights(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """A copy of the weights that train (frozen weights stay as they are).

    Not the whole state dict: weights loaded quantized (bitsandbytes) cannot be loaded back into their
    layers (seen on an H200), and an adapter's copy is a fraction of the model's. Gradual pruning's masks
    are buffers that change each epoch and are not copied: that technique keeps the last epoch
    (`keep_last_epoch`), whose weights are the model's own, so the restore changes nothing there.
    """
    return {name: p.detach().clone() for name, p in model.named_parameters() if p.requires_grad}


@torch.no_grad()
def restore_weights(model: torch.nn.Module, weights: dict[str, torch.Tensor]) -> None:
    """Copy `trained_weights`' copy back; the parameters' names must not have changed since it was taken."""
    params = dict(model.named_parameters())
    for name, saved in weights.items():
        params[name].copy_(saved)


def _stop_reason(should_stop: StopFn | None, cfg: TrainConfig, train_elapsed_s: float) -> str | None:
    if should_stop is not None and should_stop():
        return "stop requested"
    if cfg.time_limit_s is not None and train_elapsed_s >= cfg.time_limit_s:
        return f"time limit of {cfg.time_limit_s:g} s reached"
    return None
