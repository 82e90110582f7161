"""Each technique and the chief combinations beside full fine-tuning, measured in one run.

For every configuration and seed the engine trains, tests and measures as usual; the table gives
accuracy and macro-F1 as mean ± sd over the seeds, and each cost as the median over the seeds
with its ratio to full fine-tuning from the same run. An accuracy difference smaller than the
seeds' combined spread is marked "within noise".

    python benchmarks/bench_techniques.py                      # MiniLM, NusaX-senti javanese, 3 seeds
    python benchmarks/bench_techniques.py --suite marathi      # MahaSent-MR, limited train set: pruning + distillation
    python benchmarks/bench_techniques.py --suite nusax-more   # prefix, amp, head and gradual pruning, length/dedup
    python benchmarks/bench_techniques.py --rows runs.jsonl    # keep each run as it finishes; rerun to resume
    python benchmarks/bench_techniques.py --model tiny --limit-train 64 --seeds 1 --epochs 1 --only full,lora  # smoke
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from efficiency.config import DataConfig, MeasureConfig, ModelConfig, RunConfig, TechniqueSpec, TrainConfig
from efficiency.runs.runner import run_experiment
from efficiency.store import RunStore

SUITES: dict[str, dict] = {
    "nusax": {
        "dataset": "nusax-senti/javanese",
        "limit_train": None,
        "configs": {
            "full": [],
            "lora": [("lora", {})],
            "ia3": [("ia3", {})],
            "bitfit": [("bitfit", {})],
            "freeze top 2": [("freeze", {"train_top_layers": 2})],
            "probe": [("probe", {})],
            "prune 50% magnitude": [("prune", {"method": "magnitude", "sparsity": 0.5})],
            "prune 50% layers": [("prune", {"method": "layers", "sparsity": 0.5})],
            "distill (half layers)": [("distill", {})],
            "filter 50% random": [("filter", {"method": "random", "keep": 0.5})],
            "filter multistage": [("filter", {"method": "multistage"})],
            "filter 50% hardest": [("filter", {"method": "hardest", "keep": 0.5})],
            "quant int8": [("quant", {})],
            "lora + quant": [("lora", {}), ("quant", {})],
        },
    },
    # The techniques and variants the main table leaves out, with their own full fine-tuning baseline
    # (a separate sitting, so its ratios are taken against a full run of the same sitting).
    "nusax-more": {
        "dataset": "nusax-senti/javanese",
        "limit_train": None,
        "configs": {
            "full": [],
            "prefix": [("prefix", {})],
            "amp bf16": [("amp", {"dtype": "bf16", "allow_emulated": True})],
            "prune 50% heads": [("prune", {"method": "heads", "sparsity": 0.5})],
            "prune 50% gradual": [("prune", {"method": "magnitude", "sparsity": 0.5, "schedule": "gradual"})],
            "filter length": [("filter", {"method": "length"})],
            "filter dedup": [("filter", {"method": "dedup"})],
        },
    },
    "marathi": {
        "dataset": "mahasent-mr",
        "limit_train": 1500,
        "configs": {
            "full": [],
            "prune 25% heads": [("prune", {"method": "heads", "sparsity": 0.25})],
            "distill (half layers)": [("distill", {})],
            "distill + prune 25% heads": [("distill", {}), ("prune", {"method": "heads", "sparsity": 0.25})],
        },
    },
}
COSTS = [
    ("train_wall_s", "train s", "{:.1f}"),
    ("train_flops", "train FLOPs", "{:.2g}"),
    ("energy_kwh", "energy kWh (est.)", "{:.2g}"),
    ("peak_memory_mb", "peak MiB", "{:.0f}"),
    ("latency_ms_b1", "ms/ex b1", "{:.1f}"),
    ("latency_ms_b32", "ms/ex b32", "{:.2f}"),
    ("model_size_mb", "size MiB", "{:.1f}"),
    ("trainable_params", "trainable", "{:,.0f}"),
]


def run_one(args: argparse.Namespace, suite: dict, techniques: list, seed: int, store: RunStore) -> dict:
    config = RunConfig(
        name=f"bench {seed}",
        model=ModelConfig(name=args.model),
        data=DataConfig(dataset=suite["dataset"], limit_train=args.limit_train or suite["limit_train"]),
        train=TrainConfig(epochs=args.epochs),
        measure=MeasureConfig(latency_repeats=3),
        techniques=[TechniqueSpec(name, dict(params)) for name, params in techniques],
        seed=seed,
        device=args.device,
    )
    result = run_experiment(config, store=store)
    m = result.metrics
    keys = ["accuracy", "macro_f1", "other_cpu_share", *[c[0] for c in COSTS]]
    return {k: m.get(k) for k in keys} | {"status": result.status}


def summarise(runs: dict[str, list[dict]]) -> dict[str, dict]:
    table = {}
    for label, rows in runs.items():
        accs = [r["accuracy"] for r in rows]
        f1s = [r["macro_f1"] for r in rows]
        entry = {
            "accuracy_mean": statistics.mean(accs),
            "accuracy_sd": statistics.pstdev(accs),
            "macro_f1_mean": statistics.mean(f1s),
            "macro_f1_sd": statistics.pstdev(f1s),
            "seeds": len(rows),
        }
        for key, _, _ in COSTS:
            values = [r[key] for r in rows if r[key] is not None]
            entry[key] = statistics.median(values) if values else None
        table[label] = entry
    base = table.get("full")
    for entry in table.values():
        if base:
            delta = entry["accuracy_mean"] - base["accuracy_mean"]
            noise = math.hypot(entry["accuracy_sd"], base["accuracy_sd"])
            entry["accuracy_delta"] = delta
            entry["within_noise"] = abs(delta) <= noise
            for key, _, _ in COSTS:
                if entry[key] is not None and base[key]:
                    entry[f"{key}_ratio"] = entry[key] / base[key]
    return table


def markdown(table: dict[str, dict]) -> str:
    head = ["configuration", "accuracy", "macro-F1", "Δ acc vs full", *[c[1] for c in COSTS]]
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for label, e in table.items():
        delta = (
            ""
            if label == "full"
            else f"{100 * e['accuracy_delta']:+.1f} pt" + (" (within noise)" if e["within_noise"] else "")
        )
        cells = [
            label,
            f"{e['accuracy_mean']:.3f} ± {e['accuracy_sd']:.3f}",
            f"{e['macro_f1_mean']:.3f} ± {e['macro_f1_sd']:.3f}",
            delta,
        ]
        for key, _, fmt in COSTS:
            value = e[key]
            cell = "–" if value is None else fmt.format(value)
            ratio = e.get(f"{key}_ratio")
            if ratio is not None and label != "full":
                cell += f" ({ratio:.2f}x)"
            cells.append(cell)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _read_rows(path: str | None) -> list[dict]:
    if not path or not Path(path).exists():
        return []
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--suite", choices=sorted(SUITES), default="nusax")
    parser.add_argument("--model", default="minilm")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--limit-train", type=int, default=None)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--only", help="comma-separated configuration labels")
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--rows", help="append each finished run to this JSON-lines file, and skip the runs already in it (resume)"
    )
    parser.add_argument("--from-rows", help="only summarise the runs in this JSON-lines file")
    args = parser.parse_args()
    suite = SUITES[args.suite]
    configs = suite["configs"]
    if args.only:
        configs = {k: v for k, v in configs.items() if k in args.only.split(",")}
    runs: dict[str, list[dict]] = {label: [] for label in configs}
    done = _read_rows(args.rows or args.from_rows)
    for row in done:
        if row["label"] in runs:
            runs[row["label"]].append(row)
    with tempfile.TemporaryDirectory() as home:
        os.environ.setdefault("EFFLAB_HOME", home)
        store = RunStore(f"sqlite:///{home}/bench.sqlite")
        seeds = [] if args.from_rows else range(42, 42 + args.seeds)
        for seed in seeds:  # seeds outermost: a slow spell of the machine hits every config
            for label, techniques in configs.items():
                if any(r["label"] == label and r["seed"] == seed for r in done):
                    continue  # resumed: this run is already in the rows file
                row = {"label": label, "seed": seed, **run_one(args, suite, techniques, seed, store)}
                runs[label].append(row)
                if args.rows:
                    with open(args.rows, "a", encoding="utf-8") as handle:
                        handle.write(json.dumps(row) + "\n")
                print(
                    f"seed {seed} {label}: acc {row['accuracy']:.3f}, {row['train_wall_s']:.1f} s",
                    file=sys.stderr,
                    flush=True,
                )
    runs = {label: rows for label, rows in runs.items() if rows}
    table = summarise(runs)
    if args.json:
        print(json.dumps({"suite": args.suite, "dataset": suite["dataset"], "model": args.model, "epochs": args.epochs,
                          "table": table, "runs": runs}))  # fmt: skip
    else:
        print(markdown(table))
    return 0


if __name__ == "__main__":
    sys.exit(main())
