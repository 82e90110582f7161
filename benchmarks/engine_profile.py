"""Where the engine's training time goes on a device: a batch-size sweep and a profile of real steps.

The sweep: one training step's forward and backward pass (`training.time_steps`) at each batch size in
fp32 and under bf16 autocast, as examples/s (`measure.batch_choice`); the knee is the smallest batch
within 90% of the best rate (larger batches buy little more there and cost steps per epoch). `profile`: torch.profiler over
the engine's own `train()` on real data after a warm-up run, split into host time by kind of call
and, on CUDA, kernel time and the share of the wall time the GPU was busy (a launch-bound loop
leaves it idle between small kernels).

    python benchmarks/engine_profile.py --device cuda --json --out profile.json
    python benchmarks/engine_profile.py --model tiny --device cpu --sizes 4,8 --limit 32   # the CPU test
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch

from efficiency.batching import EncodedSplit, encode
from efficiency.config import DataConfig, ModelConfig, RunConfig, TrainConfig, parse_technique
from efficiency.data import load_dataset
from efficiency.data.splits import stratified_subsample
from efficiency.measure import batch_choice
from efficiency.measure.timer import PhaseTimer
from efficiency.model_names import MINILM
from efficiency.models import load_classifier
from efficiency.runs.recipe import resolve_defaults
from efficiency.techniques import build as build_techniques
from efficiency.training import train

MARATHI = "mahasent-mr"


@dataclass
class Workload:
    """A model on its device and the dataset's splits, tokenised once."""

    model: torch.nn.Module
    train: EncodedSplit
    valid: EncodedSplit
    test: EncodedSplit
    pad_id: int
    num_labels: int
    learning_rate: float
    device: torch.device


def workload(
    model: str, dataset: str, device: str, limit: int | None, data_dir: str | None, seed: int = 42
) -> Workload:
    data = load_dataset(DataConfig(dataset=dataset, limit_train=limit, data_dir=data_dir), seed)
    loaded = load_classifier(model, data.label_names, seed)
    target = torch.device(device)
    max_length = data.default_max_length
    probe = RunConfig(model=ModelConfig(name=model), data=DataConfig(dataset=dataset))
    return Workload(
        model=loaded.model.to(target),
        train=encode(loaded.tokenizer, data.train, max_length),
        valid=encode(
            loaded.tokenizer, stratified_subsample(data.valid, 64, seed), max_length
        ),  # little time off training
        test=encode(loaded.tokenizer, data.test, max_length),
        pad_id=loaded.tokenizer.pad_token_id or 0,
        num_labels=len(data.label_names),
        learning_rate=resolve_defaults(probe, max_length).train.learning_rate,
        device=target,
    )


def knee(rows: list[dict[str, Any]], dtype: str) -> int | None:
    """The knee of `dtype`'s rates, with no cap from a dataset's size."""
    mine = [r for r in rows if r["dtype"] == dtype and "examples_per_s" in r]
    return batch_choice.choose(mine, examples=2**40).batch_size if mine else None


def profile(work: Workload, batch_size: int, dtype: str, epochs: int = 1, top: int = 12) -> dict[str, Any]:
    """The engine's `train()` under torch.profiler, after one unprofiled warm-up run of the same job."""
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    techniques = build_techniques(
        RunConfig(techniques=[parse_technique(f"amp:dtype={dtype}")] if dtype != "fp32" else [])
    )
    cfg = TrainConfig(epochs=epochs, batch_size=batch_size, learning_rate=work.learning_rate)
    state = {k: v.detach().clone() for k, v in work.model.state_dict().items()}

    def run() -> float:
        work.model.load_state_dict(state)
        started = time.perf_counter()
        train(work.model, work.train, work.valid, work.valid, cfg, work.learning_rate, 42, work.device, work.pad_id,
              work.num_labels, PhaseTimer(work.device), techniques=techniques)  # fmt: skip
        return time.perf_counter() - started

    run()  # warm-up: kernels chosen, caches filled
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if work.device.type == "cuda" else [])
    with torch_profile(activities=activities) as prof:
        wall_s = run()
    events = prof.key_averages()
    host = sorted(events, key=lambda e: e.self_cpu_time_total, reverse=True)
    report: dict[str, Any] = {
        "batch_size": batch_size,
        "dtype": dtype,
        "examples": len(work.train) * epochs,
        "wall_s": wall_s,
        "examples_per_s": len(work.train) * epochs / wall_s,
        "host_ms_by_kind": by_kind(events),
        "top_host_ops": [{"op": e.key, "calls": e.count, "self_ms": e.self_cpu_time_total / 1000} for e in host[:top]],
    }
    if work.device.type == "cuda":
        kernels = [e for e in prof.events() if is_device_event(e)]
        busy_ms = sum(e.time_range.elapsed_us() for e in kernels) / 1000
        device = sorted(events, key=device_time, reverse=True)
        report.update(
            kernels=len(kernels),
            kernel_ms=busy_ms,
            gpu_busy_share=busy_ms / (1000 * wall_s),
            top_device_ops=[{"op": e.key, "calls": e.count, "self_ms": device_time(e) / 1000} for e in device[:top]],
        )
    report["table"] = events.table(sort_by="self_cuda_time_total" if work.device.type == "cuda" else "self_cpu_time_total",
                                   row_limit=25, max_name_column_width=60)  # fmt: skip
    return report


def is_device_event(event: Any) -> bool:
    return str(getattr(event, "device_type", "")).endswith(("CUDA", "PrivateUse1"))


def device_time(event: Any) -> float:
    """An op's own time on the device, in microseconds, whichever name this torch gives it."""
    for name in ("self_device_time_total", "self_cuda_time_total"):
        value = getattr(event, name, None)
        if value is not None:
            return float(value)
    return 0.0


def kind_of(op: str) -> str:
    """A profiler op's kind: what the host spent its time on."""
    lowered = op.lower()
    for kind, marks in (
        ("sync and copy", ("synchronize", "memcpy", "item", "_local_scalar_dense", "to_copy", "copy_")),
        ("launch", ("launchkernel", "cudalaunch", "culaunch")),
        ("optimizer", ("adamw", "optimizer", "_foreach", "fused_adam")),
        ("backward", ("backward", "autograd")),
        ("attention", ("attention", "sdpa", "softmax")),
        ("matmul", ("addmm", "mm", "bmm", "linear", "matmul")),
    ):
        if any(mark in lowered for mark in marks):
            return kind
    return "other"


def by_kind(events: Any) -> dict[str, float]:
    totals: dict[str, float] = {}
    for event in events:
        kind = kind_of(event.key)
        totals[kind] = totals.get(kind, 0.0) + event.self_cpu_time_total / 1000
    return {k: round(v, 1) for k, v in sorted(totals.items(), key=lambda kv: -kv[1])}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=MINILM)
    parser.add_argument("--dataset", default=MARATHI)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--sizes", default="16,32,64,128,256,512")
    parser.add_argument("--dtypes", default="fp32,bf16")
    parser.add_argument("--steps", type=int, default=5, help="timed passes per sweep point")
    parser.add_argument("--limit", type=int, default=2048, help="training examples in each profiled run")
    parser.add_argument("--profiles", default="fp32:32,bf16:knee", help="DTYPE:BATCH (or knee) runs to profile")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--out")
    args = parser.parse_args(argv)
    report: dict[str, Any] = {"command": " ".join(sys.argv), "device": args.device}
    with contextlib.redirect_stdout(sys.stderr):
        work = workload(args.model, args.dataset, args.device, args.limit, args.data_dir)
        if args.device.startswith("cuda"):
            report["gpu"] = torch.cuda.get_device_name(0)
        sizes, dtypes = tuple(int(s) for s in args.sizes.split(",")), tuple(args.dtypes.split(","))
        report["sweep"] = batch_choice.measure(
            work.model, work.train, work.pad_id, work.device, sizes, dtypes, args.steps
        )
        report["knee"] = {d: knee(report["sweep"], d) for d in dtypes}
        report["profiles"] = []
        for spec in args.profiles.split(","):
            dtype, size = spec.split(":")
            batch = report["knee"].get(dtype) if size == "knee" else int(size)
            report["profiles"].append(profile(work, batch or 32, dtype))
            if args.out:
                Path(args.out).write_text(json.dumps(report, indent=1))
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=1))
    print(json.dumps(report) if args.json else summary(report))
    return 0


def summary(report: dict[str, Any]) -> str:
    lines = ["| dtype | batch | step ms | examples/s |", "| --- | --- | --- | --- |"]
    for row in report["sweep"]:
        lines.append(f"| {row['dtype']} | {row['batch_size']} | {row.get('step_ms', '-'):.1f} | "
                     f"{row.get('examples_per_s', 0):,.0f} |" if "step_ms" in row else
                     f"| {row['dtype']} | {row['batch_size']} | {row['error']} | - |")  # fmt: skip
    lines.append(f"knee: {report['knee']}")
    for prof in report["profiles"]:
        busy = f", GPU busy {prof['gpu_busy_share']:.0%}" if "gpu_busy_share" in prof else ""
        lines += ["", f"profile {prof['dtype']} batch {prof['batch_size']}: {prof['examples_per_s']:,.0f} examples/s"
                  f"{busy}; host ms by kind {prof['host_ms_by_kind']}", prof["table"]]  # fmt: skip
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
