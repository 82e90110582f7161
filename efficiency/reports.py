"""What each technique did, as tables a person reads (the result card's "What each technique did").

A technique's report (`metrics["techniques"][name]`) is a dict of figures it counted or measured;
here it becomes: its settings in one line, its figures in words, a before/after table where it
measured a model twice (quantization, one-shot pruning, mixed precision), and the per-stage counts
of the multistage filter. Nothing is measured here: figures are named and formatted (and the
filter's backward passes saved are its examples minus its backward passes).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

# Words for the keys techniques report; a key not listed is shown with its underscores as spaces.
LABELS = {
    "trainable_params": "trainable parameters",
    "total_params": "all parameters",
    "trainable_pct": "trainable share",
    "merged": "adapter merged into the weights",
    "frozen_layers": "layers frozen (from the bottom)",
    "sparsity_target": "sparsity asked for",
    "sparsity_reached": "sparsity reached",
    "pruned_weights": "weights set to zero",
    "prunable_weights": "weights that could be pruned",
    "size_dense_mb": "size stored dense (MiB)",
    "size_sparse_mb": "size stored sparse, CSR (MiB)",
    "heads_removed": "attention heads removed",
    "heads_total": "attention heads before",
    "layers_kept": "layers kept",
    "teacher_layers": "teacher layers",
    "student_layers": "student layers",
    "student_layers_from_teacher": "student initialised from teacher layers",
    "kl_batches": "batches with the teacher's soft targets",
    "examples_before": "training examples before",
    "examples_after": "training examples after",
    "examples_removed": "training examples removed",
    "threshold": "loss threshold (set in stage 0)",
    "warmup_examples": "warm-up examples (full passes)",
    "scored_examples": "examples scored",
    "kept_examples": "examples kept",
    "scoring_forward_passes": "forward passes to score",
    "bits": "bits per weight",
    "quantized_linear_layers": "Linear layers quantized",
    "loaded_quantized": "loaded quantized (bitsandbytes)",
    "dtype": "precision of the forward pass",
    "emulated": "emulated (no native 16-bit units)",
    "step_speedup": "training step speed-up (fp32 time / autocast time)",
    "optimizer": "optimiser step",
    "accuracy": "test accuracy",
    "macro_f1": "test macro-F1",
    "model_size_mb": "model size (MiB)",
    "latency_ms_b1": "latency per example, batch 1 (ms)",
    "latency_ms_b32": "latency per example, batch 32 (ms)",
    "step_ms": "one training step, forward + backward (ms)",
    "activation_memory_mb": "memory held by the forward pass for the backward one (MiB, CUDA)",
    "tokens_per_batch": "tokens in the timed batch",
    "source": "source",
    "wall_s": "wall time (s)",
    "flops": "FLOPs",
}
SHARES = {"sparsity_target", "sparsity_reached"}  # fractions shown as percentages
PERCENTS = {"trainable_pct"}  # already in percent
STRUCTURED = {"config", "before", "after", "before_label", "after_label", "stages"}


def label(key: str) -> str:
    return LABELS.get(key, key.replace("_", " "))


def shown(key: str, value: Any) -> str:
    """A reported value as text: shares as percentages, counts with separators, flags as yes/no."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if key in SHARES:
            return f"{value:.1%}"
        if key in PERCENTS:
            return f"{value:.2f}%"
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value)) if value else "none"
    return "–" if value is None else str(value)


def settings_line(report: dict[str, Any]) -> str:
    """'r=8, alpha=16, target_modules=query+value': the technique's settings as the command line takes them."""
    parts = []
    for key, value in (report.get("config") or {}).items():
        text = "+".join(map(str, value)) if isinstance(value, list) else value
        parts.append(f"{key}={text}")
    return ", ".join(parts)


def facts(report: dict[str, Any]) -> pd.DataFrame:
    """The report's figures, one per row (nested ones, like the distillation teacher's, prefixed)."""
    rows = []
    for key, value in report.items():
        if key in STRUCTURED:
            continue
        if isinstance(value, dict):
            rows += [{"what": f"{label(key)}: {label(k)}", "value": shown(k, v)} for k, v in value.items()]
        else:
            rows.append({"what": label(key), "value": shown(key, value)})
    return pd.DataFrame(rows, columns=["what", "value"])


def before_after(report: dict[str, Any]) -> pd.DataFrame | None:
    """Figures measured on the model before and after the technique, with their ratio (after / before)."""
    before, after = report.get("before") or {}, report.get("after") or {}
    keys = [k for k in before if k in after and not isinstance(before[k], bool)]  # flags belong in facts()
    if not keys:
        return None
    first, second = report.get("before_label", "before"), report.get("after_label", "after")
    rows = []
    for key in keys:
        b, a = before[key], after[key]
        ratio = a / b if isinstance(a, int | float) and isinstance(b, int | float) and b else None
        rows.append({"figure": label(key), first: b, second: a, "after / before": ratio})
    return pd.DataFrame(rows)


def stages(report: dict[str, Any]) -> pd.DataFrame | None:
    """The multistage filter's counts per stage: examples offered, forward and backward passes run, forward
    passes skipped, and the examples that got no backward pass (offered minus backward)."""
    counts = report.get("stages")
    if not counts:
        return None
    frame = pd.DataFrame.from_dict(counts, orient="index")
    frame.loc["all stages"] = frame.sum()
    frame["backward_saved"] = frame["examples"] - frame["backward"]
    frame.index.name = "stage"
    return frame.reset_index().rename(
        columns={
            "examples": "examples offered",
            "forward": "forward passes",
            "backward": "backward passes",
            "forward_skipped": "forward passes skipped",
            "backward_saved": "backward passes saved",
        }
    )
