"""FLOPs of the operations actually run, counted cheaply.

Counting every step with `torch.utils.flop_counter.FlopCounterMode` would slow training
(it intercepts every operator in Python). Instead the meter counts a few probe batches of
the run's own model and data exactly, forward and backward apart, and fits the three terms
a transformer classifier's matmul FLOPs are made of: a·B·T (every linear layer) + b·B·T²
(attention scores and their weighting) + c·B (the pooler and the head, once per sequence), for a
batch of B sequences padded to T tokens. The fit is exact for matmul FLOPs whatever the shape, so
each step run adds fwd(B, T) and, when it ran a backward pass, bwd(B, T). Element-wise operations (softmax, GELU, layer norm) are not counted,
as in FlopCounterMode itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

METHOD = (
    "torch.utils.flop_counter on {n} probe batches of this run (forward and backward counted apart), "
    "fitted to a·B·T + b·B·T² + c·B (exact for matmul FLOPs) and summed over the steps run; "
    "element-wise operations are not counted"
)


class FlopMeter:
    """Per-step FLOPs from a fit on counted probes; totals per phase."""

    def __init__(self) -> None:
        self.forward_coef = np.zeros(3)
        self.backward_coef = np.zeros(3)
        self.probes = 0
        self.totals = {"train_forward": 0.0, "train_backward": 0.0, "eval_forward": 0.0}
        self.tokens = {"train_forward": 0, "train_backward": 0}  # padded tokens through each kind of pass

    def calibrate(
        self,
        model: torch.nn.Module,
        batches: Sequence[dict[str, torch.Tensor]],
        loss_fn: Callable[[torch.nn.Module, dict[str, torch.Tensor]], torch.Tensor],
    ) -> None:
        """Count forward and backward FLOPs exactly on `batches` and fit the per-shape model."""
        rows, forward, backward = [], [], []
        with torch.random.fork_rng(devices=_cuda_devices(batches)):  # dropout in the probes must not shift the run
            for batch in batches:
                b, t = batch["input_ids"].shape
                with FlopCounterMode(display=False) as counter:
                    loss = loss_fn(model, batch)
                fwd = counter.get_total_flops()
                with FlopCounterMode(display=False) as counter:
                    loss.backward()
                bwd = counter.get_total_flops()
                model.zero_grad(set_to_none=True)
                rows.append(_terms(b, t))
                forward.append(fwd)
                backward.append(bwd)
        design = np.array(rows, dtype=float)
        self.forward_coef = np.linalg.lstsq(design, np.array(forward, dtype=float), rcond=None)[0]
        self.backward_coef = np.linalg.lstsq(design, np.array(backward, dtype=float), rcond=None)[0]
        self.probes = len(batches)

    def forward(self, batch_size: int, seq_len: int) -> float:
        return float(self.forward_coef @ _terms(batch_size, seq_len))

    def backward(self, batch_size: int, seq_len: int) -> float:
        return float(self.backward_coef @ _terms(batch_size, seq_len))

    def add_train_step(self, batch_size: int, seq_len: int, ran_backward: bool = True) -> float:
        """Account one training step; returns its FLOPs."""
        fwd = self.forward(batch_size, seq_len)
        bwd = self.backward(batch_size, seq_len) if ran_backward else 0.0
        self.totals["train_forward"] += fwd
        self.totals["train_backward"] += bwd
        self.tokens["train_forward"] += batch_size * seq_len
        self.tokens["train_backward"] += batch_size * seq_len if ran_backward else 0
        return fwd + bwd

    def add_eval_batch(self, batch_size: int, seq_len: int) -> None:
        self.totals["eval_forward"] += self.forward(batch_size, seq_len)

    @property
    def train_flops(self) -> float:
        return self.totals["train_forward"] + self.totals["train_backward"]

    @property
    def method(self) -> str:
        return METHOD.format(n=self.probes)


ANALYTICAL_METHOD = (
    "rule of thumb: 2 FLOPs per non-embedding parameter per token forward, 4 backward (6·N·D, Kaplan et al. "
    "2020), over the padded tokens of the steps run; it assumes every weight trains and leaves out attention's "
    "T² term"
)


def analytical_train_flops(non_embedding_params: int, tokens: dict[str, int]) -> float:
    """The 6·N·D estimate for the steps run (forward-only steps at 2·N per token)."""
    return 2.0 * non_embedding_params * tokens["train_forward"] + 4.0 * non_embedding_params * tokens["train_backward"]


def _terms(batch_size: int, seq_len: int) -> np.ndarray:
    return np.array([batch_size * seq_len, batch_size * seq_len**2, batch_size], dtype=float)


def spread_picks(widths: Sequence[int], count: int = 4) -> list[int]:
    """Indices of batches spread from the shortest to the longest: spread shapes make the fit well posed."""
    if not widths:
        return []
    ordered = sorted(range(len(widths)), key=lambda i: widths[i])
    positions = np.linspace(0, len(ordered) - 1, num=min(count, len(ordered))).round().astype(int)
    return list(dict.fromkeys(ordered[p] for p in positions))


def _cuda_devices(batches: Sequence[dict[str, torch.Tensor]]) -> list[int]:
    devices = {b["input_ids"].device for b in batches}
    return [d.index or 0 for d in devices if d.type == "cuda"]
