"""Mixed precision on a CPU: the engine's fp32 training against its bf16 training, interleaved in one process.

The model and data load once; then each round runs the engine's own loop (efficiency.training.train) once
per variant, from the same freshly loaded weights (round r uses seed 42 + r), the variants' order reversed
every other round so that a slow spell of a shared machine hits all of them. Prints each variant's
median training time (validation excluded) and its speed-up over fp32 (the ratio of medians), and the
test accuracy of each variant as mean ± sd over the rounds' seeds. The variants:

    fp32          the engine without techniques: autocast off, AdamW foreach
    fp32-fused    fp32 with the fused AdamW step: what the optimiser step alone buys
    bf16-foreach  bf16 autocast with fp32's optimiser step: what precision alone buys
    bf16          amp as the engine runs it on a CPU: bf16 autocast and the fused AdamW step

With --profile, a torch.profiler pass over a few training steps of each variant (after a warm-up) prints
the top operators by self time per step and each variant's step split by kind (matrix products,
attention, optimiser step, dtype conversions, zero fills, the rest). With --plain-steps, the reference
the engine is held to: a plain Hugging Face training step on one unpadded batch, fp32 against bf16 autocast.

    python benchmarks/bench_amp_cpu.py                      # MiniLM, NusaX-senti javanese, 2 epochs, 3 rounds
    python benchmarks/bench_amp_cpu.py --profile --plain-steps 10   # plus the profile and the plain reference step
    python benchmarks/bench_amp_cpu.py --profile --rounds 0 # the profile alone
    python benchmarks/bench_amp_cpu.py --json               # one JSON object on stdout
    python benchmarks/bench_amp_cpu.py --model tiny --limit-train 48 --rounds 1 --epochs 1 --profile --allow-emulated
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch

from efficiency.batching import EncodedSplit, encode
from efficiency.config import DataConfig, ModelConfig, RunConfig, TrainConfig
from efficiency.data import load_dataset
from efficiency.measure.timer import PhaseTimer
from efficiency.models import load_classifier
from efficiency.runs.finetune import set_dropout
from efficiency.runs.recipe import resolve_defaults
from efficiency.techniques import Pipeline
from efficiency.techniques.amp import Amp, cpu_has_native_bf16
from efficiency.training import train

VARIANTS = ("fp32", "fp32-fused", "bf16-foreach", "bf16")
MATRIX_PRODUCTS = {"aten::mm", "aten::addmm", "aten::bmm", "aten::baddbmm", "aten::addbmm", "aten::linear"}
CONVERSIONS = {"aten::copy_", "aten::_to_copy", "aten::to"}
FILLS = {"aten::fill_", "aten::zero_", "aten::zeros", "aten::zeros_like"}


class CpuPhaseTimer(PhaseTimer):
    """The engine's phase timer, also counting this process's CPU seconds per phase.

    On a machine shared with others, wall time counts the seconds the scheduler gave away; with one
    thread (--threads 1), CPU time counts the work alone and is the steadier figure to compare.
    """

    def __init__(self, device: torch.device) -> None:
        super().__init__(device)
        self.cpu_s: dict[str, float] = defaultdict(float)

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        started = time.process_time()
        try:
            with super().phase(name):
                yield
        finally:
            self.cpu_s[name] += time.process_time() - started


class FusedStep(Pipeline):
    """No technique, but the fused AdamW step: fp32 with the optimiser that amp uses on a CPU."""

    def fused_optimizer(self, device: torch.device) -> bool:
        return True


def pipeline_of(variant: str, allow_emulated: bool) -> Pipeline:
    if variant == "fp32":
        return Pipeline([])
    if variant == "fp32-fused":
        return FusedStep([])
    return Pipeline([Amp({"dtype": "bf16", "allow_emulated": allow_emulated, "fused_adamw": variant == "bf16"})])


class Bench:
    """The data tokenised once and the engine's loop run on a fresh model per call."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.device = torch.device("cpu")
        self.dataset = load_dataset(DataConfig(dataset=args.dataset, limit_train=args.limit_train), seed=42)
        self.tokenizer = load_classifier(args.model, self.dataset.label_names, 0).tokenizer
        probe = RunConfig(model=ModelConfig(name=args.model), data=DataConfig(dataset=args.dataset))
        resolved = resolve_defaults(probe, self.dataset.default_max_length)
        self.learning_rate = args.learning_rate or resolved.train.learning_rate
        self.max_length = resolved.data.max_length
        self.splits = [
            encode(self.tokenizer, s, self.max_length)
            for s in (self.dataset.train, self.dataset.valid, self.dataset.test)
        ]
        if args.limit_eval is not None:  # validation and test run outside the timed phase: trimmed, they cost less
            self.splits[1:] = [
                EncodedSplit(s.ids[: args.limit_eval], s.labels[: args.limit_eval], 0) for s in self.splits[1:]
            ]

    def run(self, variant: str, seed: int, splits: list[EncodedSplit] | None = None, epochs: int | None = None):
        """One training run of the engine's loop: (training wall seconds, training CPU seconds, the outcome)."""
        loaded = load_classifier(self.args.model, self.dataset.label_names, seed)
        set_dropout(loaded.model, TrainConfig().dropout)
        cfg = TrainConfig(epochs=epochs or self.args.epochs, batch_size=self.args.batch_size)
        timer = CpuPhaseTimer(self.device)
        outcome = train(loaded.model, *(splits or self.splits), cfg=cfg, learning_rate=self.learning_rate, seed=seed,
                        device=self.device, pad_id=self.tokenizer.pad_token_id,
                        num_labels=len(self.dataset.label_names), timer=timer,
                        techniques=pipeline_of(variant, self.args.allow_emulated))  # fmt: skip
        return timer.wall_s["train"], timer.cpu_s["train"], outcome

    def plain_steps(self, steps: int) -> dict[str, float]:
        """The reference outside the engine: a plain Hugging Face training step in fp32 and under bf16 autocast.

        One model, one batch (the `--batch-size` sentences nearest the median length, cut to the shortest of
        them, so no padding and no mask), forward with the model's own loss, backward, AdamW (foreach); the
        two precisions alternate step by step. Medians of `steps` steps each after one warm-up each, in ms.
        """
        train_split = self.splits[0]
        order = sorted(range(len(train_split)), key=lambda i: len(train_split.ids[i]))
        middle = max(0, len(order) // 2 - self.args.batch_size // 2)
        rows = [train_split.ids[i] for i in order[middle : middle + self.args.batch_size]]
        width = min(len(r) for r in rows)
        input_ids = torch.tensor([r[:width] for r in rows])
        labels = torch.tensor([train_split.labels[i] for i in order[middle : middle + self.args.batch_size]])
        model = load_classifier(self.args.model, self.dataset.label_names, 42).model
        set_dropout(model, TrainConfig().dropout)
        model.train()
        optimizer = torch.optim.AdamW(model.parameters(), lr=self.learning_rate, foreach=True)
        times: dict[str, list[float]] = {"fp32": [], "bf16": []}
        for i in range(steps + 1):
            for name in times:
                started = time.perf_counter()
                with torch.autocast("cpu", dtype=torch.bfloat16, enabled=name == "bf16"):
                    loss = model(input_ids=input_ids, labels=labels).loss
                loss.backward()
                optimizer.step()
                optimizer.zero_grad(set_to_none=True)
                if i:  # the first step of each warms caches and kernels up
                    times[name].append(1000 * (time.perf_counter() - started))
        fp32_ms, bf16_ms = statistics.median(times["fp32"]), statistics.median(times["bf16"])
        return {
            "tokens": float(input_ids.numel()),
            "fp32_ms": fp32_ms,
            "bf16_ms": bf16_ms,
            "speedup": fp32_ms / bf16_ms,
        }

    def profile(self, variant: str) -> dict[str, Any]:
        """Self time (and calls) per training step by operator, and self time by kind, over `--profile-steps` steps after a warm-up."""
        from torch.profiler import ProfilerActivity, profile

        train_split, valid, test = self.splits
        steps, size = self.args.profile_steps, self.args.batch_size
        few = EncodedSplit(train_split.ids[: steps * size], train_split.labels[: steps * size], 0)
        one = [EncodedSplit(s.ids[:1], s.labels[:1], 0) for s in (valid, test)]  # evaluation kept negligible
        self.run(variant, 42, [EncodedSplit(few.ids[: 2 * size], few.labels[: 2 * size], 0), *one], epochs=1)
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            train_s, _cpu_s, outcome = self.run(variant, 42, [few, *one], epochs=1)
        per_step = 1e-3 / outcome.optimizer_steps  # profiler microseconds to milliseconds per step
        averages = prof.key_averages()
        by_op = {e.key: e.self_cpu_time_total * per_step for e in averages}
        calls = {e.key: e.count / outcome.optimizer_steps for e in averages}
        by_kind: dict[str, float] = defaultdict(float)
        for event in prof.events():
            by_kind[kind_of(event)] += event.self_cpu_time_total * per_step
        return {"step_ms": 1000 * train_s / outcome.optimizer_steps, "by_op": by_op, "calls_per_step": calls,
                "by_kind": dict(by_kind)}  # fmt: skip


def kind_of(event: Any) -> str:
    """What an operator does in a training step, by its name and whether the optimiser step called it."""
    parent = event
    while parent is not None:
        if parent.name.startswith("Optimizer.step"):
            return "optimiser step"
        if parent.name.startswith("Optimizer.zero_grad"):
            return "zero fills"
        parent = parent.cpu_parent
    if event.name in MATRIX_PRODUCTS:
        return "matrix products"
    if "scaled_dot_product" in event.name:
        return "attention"
    if event.name in CONVERSIONS:
        return "dtype conversions"
    if event.name in FILLS:
        return "zero fills"
    return "the rest"


def profile_tables(profiles: dict[str, dict[str, Any]], top: int) -> str:
    """Markdown: the step by kind, then the top operators (by their largest self time), ms per step."""
    names = list(profiles)
    head = "| | " + " | ".join(names) + " |\n| --- |" + " --- |" * len(names) + "\n"
    kinds = ("matrix products", "attention", "optimiser step", "dtype conversions", "zero fills", "the rest")
    rows = [f"| {k} | " + " | ".join(f"{profiles[n]['by_kind'].get(k, 0.0):.1f}" for n in names) + " |" for k in kinds]
    rows.append("| **profiled step** | " + " | ".join(f"**{sum(profiles[n]['by_kind'].values()):.1f}**" for n in names) + " |")  # fmt: skip
    ops = sorted({op for p in profiles.values() for op in p["by_op"]},
                 key=lambda op: -max(p["by_op"].get(op, 0.0) for p in profiles.values()))[:top]  # fmt: skip
    op_rows = [
        f"| `{op}` | " + " | ".join(f"{profiles[n]['by_op'].get(op, 0.0):.1f}" for n in names) + " |" for op in ops
    ]
    return (
        "self CPU time per training step (ms), by kind\n\n" + head + "\n".join(rows)
        + f"\n\ntop {top} operators, self CPU time per training step (ms)\n\n" + head.replace("| |", "| operator |", 1)
        + "\n".join(op_rows)
    )  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="minilm")
    parser.add_argument("--dataset", default="nusax-senti/javanese")
    parser.add_argument("--limit-train", type=int, default=None)
    parser.add_argument("--limit-eval", type=int, default=None, help="validation and test examples kept")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=TrainConfig().batch_size)
    parser.add_argument("--learning-rate", type=float, default=None, help="default: the engine's default")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds, each running every variant once")
    parser.add_argument("--variants", default=",".join(VARIANTS), help=f"comma-separated, of {', '.join(VARIANTS)}")
    parser.add_argument("--profile", action="store_true", help="also profile a few steps of each variant")
    parser.add_argument("--profile-steps", type=int, default=8)
    parser.add_argument("--top", type=int, default=12, help="operators in the profile table")
    parser.add_argument("--plain-steps", type=int, default=0,
                        help="also time a plain training step outside the engine, fp32 against bf16, this many times")  # fmt: skip
    parser.add_argument("--allow-emulated", action="store_true", help="run bf16 on a CPU without native bf16")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's own choice)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = sorted(set(variants) - set(VARIANTS))
    if unknown or "fp32" not in variants:
        parser.error(
            f"--variants takes fp32 and any of {', '.join(VARIANTS)} (not {', '.join(unknown) or 'without fp32'})"
        )
    native = cpu_has_native_bf16()
    if not native and not args.allow_emulated:
        log("This CPU has no native bf16 (no AVX512-BF16 or AMX): the bf16 variants are left out. "
            "Run on a CPU with AMX, or add --allow-emulated to see the emulated slowdown.")  # fmt: skip
        variants = [v for v in variants if not v.startswith("bf16")]
    bench = Bench(args)
    log(f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, native bf16: {native}; "
        f"{args.model} on {args.dataset}: {len(bench.splits[0])} training examples, {args.epochs} epochs")  # fmt: skip

    train_s: dict[str, list[float]] = {v: [] for v in variants}
    cpu_s: dict[str, list[float]] = {v: [] for v in variants}
    accuracy: dict[str, list[float]] = {v: [] for v in variants}
    for r in range(args.rounds):
        for variant in variants if r % 2 == 0 else variants[::-1]:
            started = time.perf_counter()
            seconds, cpu_seconds, outcome = bench.run(variant, 42 + r)
            train_s[variant].append(seconds)
            cpu_s[variant].append(cpu_seconds)
            accuracy[variant].append(outcome.test.accuracy)
            log(f"round {r + 1} {variant:12s} train {seconds:7.1f} s ({cpu_seconds:.1f} CPU s)  accuracy {outcome.test.accuracy:.3f}  "
                f"(run {time.perf_counter() - started:.0f} s)")  # fmt: skip

    result: dict[str, Any] = {
        "model": args.model, "dataset": args.dataset, "epochs": args.epochs, "batch_size": args.batch_size,
        "rounds": args.rounds, "threads": torch.get_num_threads(), "native_bf16": native,
        "torch": torch.__version__, "train_s": train_s, "train_cpu_s": cpu_s, "accuracy": accuracy,
    }  # fmt: skip
    if args.rounds:
        fp32_s = statistics.median(train_s["fp32"])
        result["speedup_vs_fp32"] = {v: fp32_s / statistics.median(train_s[v]) for v in variants}
        fp32_cpu_s = statistics.median(cpu_s["fp32"])
        result["cpu_speedup_vs_fp32"] = {v: fp32_cpu_s / statistics.median(cpu_s[v]) for v in variants}
    if args.plain_steps and any(v.startswith("bf16") for v in variants):
        result["plain_step"] = bench.plain_steps(args.plain_steps)
    if args.profile:
        profiles = {v: bench.profile(v) for v in variants}
        result["profile"] = profiles
        result["profile_table"] = profile_tables(profiles, args.top)
    if args.json:
        print(json.dumps(result))
        return 0
    for v in variants if args.rounds else []:
        acc = accuracy[v]
        spread = statistics.stdev(acc) if len(acc) > 1 else 0.0
        print(f"{v:12s} median train {statistics.median(train_s[v]):7.1f} s  {result['speedup_vs_fp32'][v]:.2f}x fp32  "
              f"(CPU time {statistics.median(cpu_s[v]):.1f} s, {result['cpu_speedup_vs_fp32'][v]:.2f}x)  accuracy {statistics.mean(acc):.3f} ± {spread:.3f} ({len(acc)} seeds)")  # fmt: skip
    if "plain_step" in result:
        plain = result["plain_step"]
        print(f"plain step outside the engine ({plain['tokens']:.0f} tokens): fp32 {plain['fp32_ms']:.0f} ms, "
              f"bf16 {plain['bf16_ms']:.0f} ms: {plain['speedup']:.2f}x")  # fmt: skip
    if args.profile:
        print("\n" + result["profile_table"])
    return 0


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
