"""Post-training quantization: int8 weights for the Linear layers, for cheaper CPU inference.

We use torch.ao's `quantize_dynamic`, which ships with the pinned torch and works eagerly on the CPU.
It is deprecated in favour of torchao, but torchao's CPU int8 path gets its speed through
torch.compile, whose compile time dwarfs a classroom-sized job; revisit when torch.ao goes.
"""

from __future__ import annotations

import copy
import warnings
from dataclasses import dataclass
from typing import Any, ClassVar

import torch

from efficiency.errors import ConfigError
from efficiency.techniques.base import Technique, TechniqueContext, option


@dataclass
class QuantConfig:
    method: str = option("dynamic-int8", "dynamic-int8: int8 Linear weights, activations quantized on the fly (CPU).",
                         ("dynamic-int8",))  # fmt: skip


class Quant(Technique):
    name: ClassVar[str] = "quant"
    stage: ClassVar[str] = "after_training"
    summary: ClassVar[str] = "After training, store the Linear layers' weights in 8 bits and compute with int8."
    lesson: ClassVar[str] = (
        "Quantization maps each weight to one of 256 levels: the Linear layers shrink four-fold and int8 matrix "
        "products are cheaper on most CPUs. Dynamic quantization needs no calibration data. Accuracy usually "
        "drops a little; the embeddings stay in fp32, so the whole model shrinks less than four-fold."
    )
    citation: ClassVar[str] = (
        "Jacob et al. (2018). Quantization and Training of Neural Networks for Efficient Integer-Arithmetic-Only "
        "Inference. CVPR 2018."
    )
    Config: ClassVar[type] = QuantConfig
    priority: ClassVar[int] = 2  # last: after merging adapters and pruning

    def check(self, run: Any, device: torch.device) -> None:
        if any(t.name == "amp" for t in run.techniques):
            raise ConfigError("int8 quantization and amp's 16-bit autocast do not mix: switch one of them off.")
        if device.type != "cpu":
            raise ConfigError(
                "quant:dynamic-int8 runs on the CPU: use --device cpu for this run (8- and 4-bit GPU loading "
                "through bitsandbytes is not in the lab yet)."
            )

    def after_training(self, model: torch.nn.Module, ctx: TechniqueContext) -> torch.nn.Module:
        before = ctx.measure(model) if ctx.measure else {}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the deprecation notice for torch.ao; see the module docstring
            quantized = torch.ao.quantization.quantize_dynamic(
                copy.deepcopy(model), {torch.nn.Linear}, dtype=torch.qint8
            )
        after = ctx.measure(quantized) if ctx.measure else {}
        linear = sum(
            1 for m in quantized.modules() if type(m).__name__ == "Linear" and "quantized" in type(m).__module__
        )
        self.stats.update(bits=8, quantized_linear_layers=linear, before=before, after=after)
        return quantized
