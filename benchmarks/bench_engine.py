"""The engine against a plain Hugging Face Trainer fine-tune, measured in one run.

The Trainer is written the way a typical user writes it: pad every example to max length 128,
batch 32, the model's own dropout, no evaluation during training. Both get the same model,
data, epochs, learning rate, warm-up and device. Prints examples/s of both (median over seeds)
and their ratio, mean test accuracy of both over the seeds, and the engine's measurement
overhead (training wall time with measurement on against off).

    python benchmarks/bench_engine.py                 # MiniLM, NusaX-senti javanese, 3 seeds
    python benchmarks/bench_engine.py --json          # one JSON object on stdout
    python benchmarks/bench_engine.py --model tiny --limit-train 64 --seeds 1 --epochs 1   # smoke test
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
import torch

from efficiency.config import DataConfig, MeasureConfig, ModelConfig, RunConfig, TrainConfig
from efficiency.data import LabelledDataset, load_dataset
from efficiency.models import load_classifier
from efficiency.runs.recipe import resolve_defaults

if TYPE_CHECKING:
    from efficiency.store import RunStore


def engine_config(args: argparse.Namespace, seed: int, measure: bool, epochs: int | None = None) -> RunConfig:
    """The engine's run: the benchmark's model, data, epochs, learning rate and device, engine defaults otherwise."""
    return RunConfig(
        name=f"bench engine seed {seed}{'' if measure else ' (measurement off)'}",
        model=ModelConfig(name=args.model),
        data=DataConfig(dataset=args.dataset, limit_train=args.limit_train),
        train=TrainConfig(epochs=epochs or args.epochs, learning_rate=args.learning_rate),
        measure=MeasureConfig(energy=measure, flops=measure, latency=False),
        seed=seed,
        device=args.device,
    )


def engine_figures(metrics: dict, config: dict) -> dict:
    """What the benchmark compares, from an engine run's metrics and resolved config."""
    return {
        "examples_per_s": metrics["train_examples_per_s"],
        "train_wall_s": metrics["train_wall_s"],
        "accuracy": metrics["accuracy"],
        "macro_f1": metrics["macro_f1"],
        "padded_tokens": metrics["padded_tokens"],
        "energy_kwh": metrics.get("energy_kwh"),
        "learning_rate": config["train"]["learning_rate"],
    }


def engine_run(args: argparse.Namespace, seed: int, measure: bool, store: RunStore, epochs: int | None = None) -> dict:
    from efficiency.runs.runner import run_experiment  # the store's SQLAlchemy: not on a bare GPU image

    result = run_experiment(engine_config(args, seed, measure, epochs), store=store)
    return engine_figures(result.metrics, result.config)


def trainer_run(args: argparse.Namespace, seed: int, learning_rate: float, ds: LabelledDataset | None = None) -> dict:
    """A typical Trainer fine-tune: tokenise with padding='max_length', then Trainer.train() (on `ds` when given)."""
    from sklearn.metrics import accuracy_score, f1_score
    from transformers import Trainer, TrainingArguments

    ds = ds or load_dataset(DataConfig(dataset=args.dataset, limit_train=args.limit_train), seed)
    loaded = load_classifier(args.model, ds.label_names, seed)
    tok = loaded.tokenizer

    class Encoded(torch.utils.data.Dataset):
        def __init__(self, split):
            self.enc = tok(split.texts, padding="max_length", truncation=True, max_length=128)
            self.labels = split.labels

        def __len__(self):
            return len(self.labels)

        def __getitem__(self, i):
            item = {k: torch.tensor(v[i]) for k, v in self.enc.items()}
            item["labels"] = torch.tensor(self.labels[i])
            return item

    train_set, test_set = Encoded(ds.train), Encoded(ds.test)
    with tempfile.TemporaryDirectory() as out:
        training_args = TrainingArguments(
            output_dir=out,
            per_device_train_batch_size=32,
            per_device_eval_batch_size=64,
            num_train_epochs=args.epochs,
            learning_rate=learning_rate,
            warmup_steps=0.1,
            weight_decay=0.01,
            eval_strategy="no",
            save_strategy="no",
            logging_strategy="no",
            report_to="none",
            seed=seed,
            use_cpu=args.device == "cpu",
            disable_tqdm=True,
        )
        trainer = Trainer(model=loaded.model, args=training_args, train_dataset=train_set)
        start = time.perf_counter()
        with contextlib.redirect_stdout(sys.stderr):  # Trainer prints its metrics; stdout is for our JSON
            trainer.train()
        train_wall_s = time.perf_counter() - start
        logits = trainer.predict(test_set).predictions
    predictions = np.argmax(logits, axis=-1)
    return {
        "examples_per_s": len(train_set) * args.epochs / train_wall_s,
        "train_wall_s": train_wall_s,
        "accuracy": float(accuracy_score(ds.test.labels, predictions)),
        "macro_f1": float(f1_score(ds.test.labels, predictions, average="macro")),
        "padded_tokens": len(train_set) * 128 * args.epochs,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="minilm")
    parser.add_argument("--dataset", default="nusax-senti/javanese")
    parser.add_argument("--limit-train", type=int, default=None)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--learning-rate", type=float, default=None, help="default: the engine's default")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--overhead-pairs", type=int, default=3, help="1-epoch runs with measurement on and off")
    parser.add_argument("--skip-trainer", action="store_true", help="measure the overhead only")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from efficiency.store import RunStore

    with tempfile.TemporaryDirectory() as home:
        os.environ.setdefault("EFFLAB_HOME", home)  # the bench's runs stay out of the user's store
        store = RunStore(f"sqlite:///{home}/bench.sqlite")
        probe = RunConfig(model=ModelConfig(name=args.model), data=DataConfig(dataset=args.dataset))
        learning_rate = args.learning_rate or resolve_defaults(probe, 128).train.learning_rate
        seeds = list(range(42, 42 + args.seeds))
        engine, trainer = [], []
        for seed in [] if args.skip_trainer else seeds:  # interleaved: a slow spell of the machine hits both
            engine.append(engine_run(args, seed, measure=True, store=store))
            trainer.append(trainer_run(args, seed, learning_rate))
            log(f"seed {seed}: engine {engine[-1]['examples_per_s']:.1f} ex/s acc {engine[-1]['accuracy']:.3f}; "
                f"trainer {trainer[-1]['examples_per_s']:.1f} ex/s acc {trainer[-1]['accuracy']:.3f}")  # fmt: skip
        # Overhead: the same 1-epoch job with measurement on and off, interleaved, medians compared.
        on_s, off_s = [], []
        for _ in range(args.overhead_pairs):
            on_s.append(engine_run(args, seeds[0], measure=True, store=store, epochs=1)["train_wall_s"])
            off_s.append(engine_run(args, seeds[0], measure=False, store=store, epochs=1)["train_wall_s"])
        log(f"overhead pairs: on {[round(x, 2) for x in on_s]} s, off {[round(x, 2) for x in off_s]} s")

    # None when no pairs were asked for (--overhead-pairs 0): the speed comparison alone.
    overhead_pct = (
        100 * (statistics.median(on_s) - statistics.median(off_s)) / statistics.median(off_s) if on_s else None
    )
    if args.skip_trainer:
        print(json.dumps({"overhead_pct": overhead_pct, "overhead_on_train_s": on_s, "overhead_off_train_s": off_s}))
        return 0
    engine_rate = statistics.median(r["examples_per_s"] for r in engine)
    trainer_rate = statistics.median(r["examples_per_s"] for r in trainer)
    result = {
        "model": args.model,
        "dataset": args.dataset,
        "epochs": args.epochs,
        "seeds": seeds,
        "device": args.device,
        "learning_rate": learning_rate,
        "engine_examples_per_s": engine_rate,
        "trainer_examples_per_s": trainer_rate,
        "speedup": engine_rate / trainer_rate,
        "engine_accuracy": statistics.mean(r["accuracy"] for r in engine),
        "trainer_accuracy": statistics.mean(r["accuracy"] for r in trainer),
        "engine_accuracy_sd": statistics.pstdev(r["accuracy"] for r in engine),
        "trainer_accuracy_sd": statistics.pstdev(r["accuracy"] for r in trainer),
        "engine_macro_f1": statistics.mean(r["macro_f1"] for r in engine),
        "trainer_macro_f1": statistics.mean(r["macro_f1"] for r in trainer),
        "engine_padded_tokens": engine[0]["padded_tokens"],
        "trainer_padded_tokens": trainer[0]["padded_tokens"],
        "overhead_pct": overhead_pct,
        "engine_runs": engine,
        "trainer_runs": trainer,
        "overhead_on_train_s": on_s,
        "overhead_off_train_s": off_s,
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"engine  {engine_rate:8.1f} examples/s  accuracy {result['engine_accuracy']:.3f} ± {result['engine_accuracy_sd']:.3f}\n"
            f"trainer {trainer_rate:8.1f} examples/s  accuracy {result['trainer_accuracy']:.3f} ± {result['trainer_accuracy_sd']:.3f}\n"
            f"speedup {result['speedup']:.2f}x (median over {len(seeds)} seeds); tokens processed per epoch: "
            f"engine {result['engine_padded_tokens'] // args.epochs:,}, trainer {result['trainer_padded_tokens'] // args.epochs:,}\n"
            + (f"measurement overhead {overhead_pct:+.1f}% of training wall time" if on_s else "overhead not measured")
        )  # fmt: skip
    return 0


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
