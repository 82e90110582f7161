"""Quantization: int8 weights for the Linear layers after training (CPU), or a 8/4-bit base on CUDA.

`dynamic-int8`: torch.ao's `quantize_dynamic`, which ships with the pinned torch and works eagerly on the
CPU. It is deprecated in favour of torchao, but torchao's CPU int8 path gets its speed through
torch.compile, whose compile time dwarfs a classroom-sized job; revisit when torch.ao goes.

`bnb-8bit` / `bnb-4bit`: on CUDA with bitsandbytes installed, the pretrained model is loaded with 8-bit
(LLM.int8) or 4-bit NF4 weights and stays frozen; with `lora` this is QLoRA (Dettmers et al., 2023).
Quantized weights cannot be trained themselves, so these need an adapter. Not exercised on this
project's CPU machines: the checks that refuse it elsewhere are tested, the CUDA path only by hand.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from efficiency.errors import ConfigError
from efficiency.fields import setting
from efficiency.model_names import TINY
from efficiency.techniques.base import Technique, TechniqueContext
from efficiency.techniques.facts import TechniqueFacts, Work
from efficiency.techniques.registry import register
from efficiency.techniques.restricted import HEAD_NAMES

if TYPE_CHECKING:
    import torch

BNB_METHODS = ("bnb-8bit", "bnb-4bit")
ADAPTERS = ("lora", "ia3", "prefix")


@dataclass
class QuantConfig:
    method: str = setting(
        "dynamic-int8",
        "dynamic-int8: after training, int8 Linear weights with activations quantized on the fly (CPU). "
        "bnb-8bit / bnb-4bit: load the pretrained weights in 8 or 4 bits on CUDA (bitsandbytes) and train an "
        "adapter on top: with lora, QLoRA.",
        ("dynamic-int8", *BNB_METHODS),
    )


class Quant(Technique):
    """Quantization's hooks: bitsandbytes load options, or dynamic int8 after training."""

    priority: ClassVar[int] = 2  # last: after merging adapters and pruning

    def check(self, run: Any, device: torch.device) -> None:
        if any(t.name == "amp" for t in run.techniques) and self.config.method == "dynamic-int8":
            raise ConfigError("int8 quantization and amp's 16-bit autocast do not mix: switch one of them off.")
        unmerged = [t.name for t in run.techniques if t.name in ("lora", "ia3") and t.params.get("merge") is False]
        if unmerged and self.config.method == "dynamic-int8":  # peft's layers read weight.dtype, a method once int8
            raise ConfigError(
                f"dynamic int8 cannot quantize under an unmerged {unmerged[0]} adapter: set {unmerged[0]}:merge=true "
                "(the adapter is folded into the weights first), or switch quantization off."
            )
        if self.config.method in BNB_METHODS:
            self._check_bnb(run, device)
        elif device.type != "cpu":
            raise ConfigError(
                "quant:method=dynamic-int8 runs on the CPU: choose the CPU as this run's device (--device cpu), or on a GPU "
                "quant:method=bnb-4bit with lora (QLoRA)."
            )

    def _check_bnb(self, run: Any, device: torch.device) -> None:
        import importlib.util

        if device.type != "cuda":
            raise ConfigError(
                f"quant:method={self.config.method} loads weights through bitsandbytes, which needs a CUDA GPU: "
                "on this machine use quant:method=dynamic-int8 (after training, CPU)."
            )
        if importlib.util.find_spec("bitsandbytes") is None:
            raise ConfigError(f"quant:method={self.config.method} needs bitsandbytes: pip install bitsandbytes.")
        if not any(t.name in ADAPTERS for t in run.techniques):
            raise ConfigError(
                f"quant:method={self.config.method} freezes 8/4-bit weights, which cannot be trained: add an "
                "adapter (LoRA with it is QLoRA)."
            )
        if run.model.name == TINY:
            raise ConfigError(
                "The tiny model is built at random, not loaded: bitsandbytes quantizes pretrained weights."
            )

    def load_options(self) -> dict[str, Any]:
        """Keyword arguments for from_pretrained: the bitsandbytes quantization of the base model."""
        if self.config.method not in BNB_METHODS:
            return {}
        import torch
        from transformers import BitsAndBytesConfig

        # The classification head stays in full precision in both: it starts untrained and the adapter trains it
        # (peft's modules_to_save); quantized, it could not take gradients (seen on an H200, README).
        if self.config.method == "bnb-4bit":
            from efficiency.techniques.amp import native_cuda_bf16

            device = torch.device("cuda", torch.cuda.current_device())
            quantization = BitsAndBytesConfig(
                load_in_4bit=True,
                llm_int8_skip_modules=list(HEAD_NAMES),  # named for 8 bits; transformers skips them in 4 bits too
                bnb_4bit_quant_type="nf4",
                bnb_4bit_use_double_quant=True,
                # bf16 where the GPU has it (Ampere on); fp16 on older boards, which have no bf16 units.
                bnb_4bit_compute_dtype=torch.bfloat16 if native_cuda_bf16(device) else torch.float16,
            )
        else:
            quantization = BitsAndBytesConfig(load_in_8bit=True, llm_int8_skip_modules=list(HEAD_NAMES))
        self.stats.update(bits=4 if self.config.method == "bnb-4bit" else 8, loaded_quantized=True)
        return {"quantization_config": quantization, "device_map": {"": torch.cuda.current_device()}}

    def after_training(self, model: torch.nn.Module, ctx: TechniqueContext) -> torch.nn.Module:
        if self.config.method in BNB_METHODS:
            return model  # quantized at load time

        before = ctx.measure(model) if ctx.measure else {}
        quantized = quantize_int8(copy.deepcopy(model))
        after = ctx.measure(quantized) if ctx.measure else {}
        linear = sum(
            1 for m in quantized.modules() if type(m).__name__ == "Linear" and "quantized" in type(m).__module__
        )
        self.stats.update(
            bits=8, quantized_linear_layers=linear, before_label="fp32", after_label="int8", before=before, after=after
        )
        return quantized

    def kept_shape(self, model: torch.nn.Module) -> dict[str, Any]:
        if self.config.method in BNB_METHODS:
            raise ConfigError(
                f"A model trained with quant:method={self.config.method} is not kept: the lab rebuilds kept models "
                "on the CPU, where bitsandbytes' weights do not run. Its figures are kept."
            )
        return {}

    def rebuild(self, model: torch.nn.Module, shape: dict[str, Any]) -> torch.nn.Module:
        return quantize_int8(model) if self.config.method == "dynamic-int8" else model


def quantize_int8(model: torch.nn.Module) -> torch.nn.Module:
    """Dynamic int8 quantization of every Linear layer, in place."""
    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the deprecation notice for torch.ao; see the module docstring
        return torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8, inplace=True)


SAME_FLOPS = {
    "": "same FLOPs: int8 or 4-bit weights change the time and memory per FLOP, not the FLOPs",
}


def _work(settings: Mapping[str, Any], num_layers: int | None) -> Work:
    return Work(SAME_FLOPS[""])


QUANT_WORDS = {
    "dynamic-int8": "int8 after training",
    "bnb-8bit": "8-bit weights (bitsandbytes)",
    "bnb-4bit": "4-bit weights (bitsandbytes)",
}


register(
    TechniqueFacts(
        name="quant",
        title="Quantization",
        pillar="compute",
        stage="after_training",
        summary="After training, store the Linear layers' weights in 8 bits and compute with int8.",
        lesson=(
            "Quantization maps each weight to one of 256 levels: the Linear layers shrink four-fold and int8 matrix "
            "products are cheaper on most CPUs. Dynamic quantization needs no calibration data. Accuracy usually "
            "drops a little; the embeddings stay in fp32, so the whole model shrinks less than four-fold."
        ),
        citation=(
            "Jacob et al. (2018). Quantization and Training of Neural Networks for Efficient Integer-Arithmetic-Only "
            "Inference. CVPR 2018."
        ),
        config=QuantConfig,
        work=_work,
        rules=SAME_FLOPS,
        words=lambda s: QUANT_WORDS[s["method"]],
        reshapes_model=True,
    ),
    hooks=Quant,
)
