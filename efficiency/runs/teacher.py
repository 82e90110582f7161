"""What the recipe lends distillation: a teacher trained with the run's own loop, its cached logits,
or a kept run's model; the teacher's time and FLOPs are charged to the run."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch

from efficiency.batching import EncodedSplit, batch_order, collate, logits_of, mean_loss
from efficiency.errors import ConfigError
from efficiency.measure.flops import FlopMeter, spread_picks
from efficiency.measure.timer import PhaseTimer
from efficiency.techniques import FACTS
from efficiency.training import Progress

if TYPE_CHECKING:
    from efficiency.store import RunStore


@dataclass
class TeacherCost:
    """The distillation teacher's training and logits pass in this job: charged to the run."""

    wall_s: float = 0.0
    flops: float = 0.0


def train_teacher(
    fit: Callable[..., Any],
    encoded: tuple[EncodedSplit, EncodedSplit, EncodedSplit],
    device: torch.device,
    count_flops: bool,
    cost: TeacherCost,
    report: Callable[[Progress], None],
    teacher: torch.nn.Module,
) -> tuple[torch.nn.Module, dict[str, Any]]:
    """Fine-tune the full model as a distillation teacher with the run's own loop; its cost goes into `cost`."""
    teacher.to(device)
    timer = PhaseTimer(device)
    meter = FlopMeter() if count_flops else None
    outcome = fit(
        teacher, *encoded, timer=timer, flops=meter,
        on_progress=lambda p: report(dataclasses.replace(p, phase="teacher")),
    )  # fmt: skip
    wall_s = sum(timer.wall_s.values())
    teacher_flops = (meter.train_flops + meter.totals["eval_forward"]) if meter else 0.0
    cost.wall_s += wall_s
    cost.flops += teacher_flops
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


def teacher_logits(
    split: EncodedSplit,
    pad_id: int,
    device: torch.device,
    eval_batch_size: int,
    count_flops: bool,
    cost: TeacherCost,
    teacher: torch.nn.Module,
) -> tuple[torch.Tensor, dict[str, Any]]:
    """The teacher's logits on every training example, computed once (indexed by position in the split)."""
    teacher.to(device).eval()
    order = batch_order(split.lengths, eval_batch_size, rng=None, bucket=True)
    widths = [max(split.lengths[i] for i in b) for b in order]
    start = time.perf_counter()
    logits = torch.zeros(len(split), teacher.config.num_labels)
    with torch.inference_mode():
        for indices in order:
            logits[indices] = logits_of(teacher, collate(split, indices, pad_id, device)).float().cpu()
    wall_s = time.perf_counter() - start
    flops = 0.0
    if count_flops:
        meter = FlopMeter()
        probes = [collate(split, order[i], pad_id, device) for i in spread_picks(widths)]
        meter.calibrate(teacher.train(), probes, mean_loss)
        teacher.eval()
        flops = sum(meter.forward(len(b), w) for b, w in zip(order, widths, strict=True))
    cost.wall_s += wall_s
    cost.flops += flops
    return logits, {"logits_wall_s": wall_s, "logits_flops": flops}


def load_run_model(store: RunStore, label_names: list[str], model_name: str, run_id: int) -> torch.nn.Module | None:
    """A kept, fully fine-tuned model of an earlier run, as a distillation teacher."""
    from efficiency.inference import kept_folder
    from efficiency.runs.keep import load_model

    record = store.get(run_id)
    if record is None or record.status != "finished" or not record.model_path:
        return None
    if record.model != model_name:
        raise ConfigError(
            f"Run {run_id} trained '{record.model}', not '{model_name}': the teacher must be the same model."
        )
    # A technique no longer registered is refused too: nothing says its model is a plain one.
    reshaped = [
        t["name"]
        for t in record.config.get("techniques", [])
        if t["name"] not in FACTS or FACTS[t["name"]].reshapes_model
    ]
    model = None if reshaped else load_model(kept_folder(record.model_path))[0]
    if model is None or hasattr(model, "peft_config"):  # an adapter left unmerged wraps the model
        raise ConfigError(
            f"Run {run_id} kept a {'/'.join(reshaped) or 'adapter'} model, not a plain fine-tuned one: "
            "choose a full fine-tuning run as teacher."
        )
    if [model.config.id2label[i] for i in range(model.config.num_labels)] != list(label_names):
        raise ConfigError(f"Run {run_id} was trained on other labels: choose a teacher from the same dataset.")
    return model
