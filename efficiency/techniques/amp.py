"""Mixed precision: run the forward pass in bf16 or fp16 under autocast, keep fp32 master weights."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from efficiency.errors import ConfigError
from efficiency.fields import setting
from efficiency.techniques.base import Technique, TechniqueContext
from efficiency.techniques.facts import TechniqueFacts, Work
from efficiency.techniques.registry import register

if TYPE_CHECKING:
    import torch


def torch_dtype(name: str) -> torch.dtype:
    """The torch dtype of amp's dtype setting."""
    import torch

    return {"bf16": torch.bfloat16, "fp16": torch.float16}[name]


NO_CUDA_BF16 = "This GPU has no bf16 (it needs compute capability 8.0, Ampere or newer): choose the fp16 type for amp."


def native_cuda_bf16(device: torch.device) -> bool:
    """bf16 units on this GPU (compute capability 8.0+); torch's own check also counts slow emulation."""
    import torch

    return torch.cuda.get_device_capability(device)[0] >= 8


def cuda_has_bf16(device: torch.device) -> bool | None:
    """Native bf16 on the GPU (compute capability 8.0+), or None when it cannot be told without starting CUDA.

    The app's server checks settings too, and must not hold a CUDA context that the runs need: before
    CUDA has started in this process, ask NVML, and only where its board numbering surely matches.
    """
    import torch

    if torch.cuda.is_initialized():
        return native_cuda_bf16(device)
    if os.environ.get("CUDA_VISIBLE_DEVICES") is not None:
        return None
    try:
        import pynvml

        pynvml.nvmlInit()
        if pynvml.nvmlDeviceGetCount() != 1 or (device.index or 0) != 0:
            return None
        major, _minor = pynvml.nvmlDeviceGetCudaComputeCapability(pynvml.nvmlDeviceGetHandleByIndex(0))
        return major >= 8
    except Exception:
        return None


def cpu_has_native_bf16() -> bool:
    """AVX512-BF16 or AMX: without them a CPU emulates bf16 and gets slower, not faster."""
    import torch

    return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())


@dataclass
class AmpConfig:
    dtype: str = setting(
        "bf16", "Lower-precision type for the forward pass: bf16, or fp16 (CUDA only).", ("bf16", "fp16")
    )
    allow_emulated: bool = setting(
        False, "Run bf16 on a CPU without native support anyway (for teaching: it is slower there)."
    )
    fused_adamw: bool = setting(
        True,
        "On a CPU, step AdamW with its fused kernel: one pass over the fp32 master weights and their moments "
        "instead of about ten. Off: the optimiser steps as in an fp32 run, to see what precision alone buys.",
    )
    timed_step: bool = setting(
        True,
        "After training, time one training step in fp32 and under autocast on the same batch (the report's "
        "step speed-up). Off saves that time: minutes where bf16 is emulated.",
    )


class Amp(Technique):
    """Mixed precision's hooks: check the device, give autocast its dtype, time fp32 against it."""

    def check(self, run: Any, device: torch.device) -> None:
        dtype = self.config.dtype
        if device.type == "cpu":
            if dtype == "fp16":
                raise ConfigError("amp fp16 needs a CUDA GPU: on the CPU use amp:dtype=bf16, or switch amp off.")
            if not cpu_has_native_bf16() and not self.config.allow_emulated:
                raise ConfigError(
                    "This CPU has no native bf16 (no AVX512-BF16 or AMX): amp would slow training down. Switch amp "
                    "off, run on a GPU, or set amp:allow_emulated=true to see the slowdown for yourself."
                )
        elif device.type == "cuda" and dtype == "bf16" and cuda_has_bf16(device) is False:
            raise ConfigError(NO_CUDA_BF16)
        elif device.type == "mps" and dtype == "bf16":
            raise ConfigError("Apple's MPS autocast supports fp16 here: use amp:dtype=fp16.")

    def autocast_dtype(self, device: torch.device) -> torch.dtype:
        # In the worker, CUDA may start: the definitive bf16 check (check() may have had to defer it).
        if device.type == "cuda" and self.config.dtype == "bf16" and not native_cuda_bf16(device):
            raise ConfigError(NO_CUDA_BF16)
        self.stats.update(
            dtype=self.config.dtype, device=device.type, emulated=device.type == "cpu" and not cpu_has_native_bf16()
        )
        return torch_dtype(self.config.dtype)

    def after_training(self, model: torch.nn.Module, ctx: TechniqueContext) -> torch.nn.Module:
        """The measured effect: the same training step on the same batch in fp32 and under autocast."""
        if ctx.time_steps is not None and self.config.timed_step:
            before = ctx.time_steps(model, None)
            after = ctx.time_steps(model, torch_dtype(self.config.dtype))
            self.stats.update(
                before_label="fp32",
                after_label=f"{self.config.dtype} autocast",
                before=before,
                after=after,
                step_speedup=before["step_ms"] / after["step_ms"] if after.get("step_ms") else None,
            )
        return model

    def needs_grad_scaler(self) -> bool:
        return self.config.dtype == "fp16"

    def fused_optimizer(self, device: torch.device) -> bool:
        # Mixed precision shortens the matrix products only; on a CPU the optimiser's passes over the fp32
        # master weights then dominate a step, unless fused (as CPU mixed-precision recipes do, IPEX's too).
        fused = device.type == "cpu" and self.config.fused_adamw
        self.stats["optimizer"] = "AdamW, fused" if fused else "AdamW, foreach"
        return fused


SAME_FLOPS = {"": "same FLOPs: precision changes the time per FLOP, not the FLOPs"}


def _work(settings: Mapping[str, Any], num_layers: int | None) -> Work:
    return Work(SAME_FLOPS[""])


register(
    TechniqueFacts(
        name="amp",
        title="Mixed precision",
        pillar="compute",
        stage="precision",
        summary="Compute the forward pass in 16-bit floats (autocast), keeping 32-bit master weights.",
        lesson=(
            "Matrix multiplications in bf16 or fp16 move half the bytes and, on hardware with 16-bit units (tensor "
            "cores, AMX), run several times faster. fp16 has a narrow range and needs loss scaling; bf16 has fp32's "
            "range and does not. On a CPU without bf16 instructions autocast only adds conversions: measure it."
        ),
        citation="Micikevicius et al. (2018). Mixed Precision Training. ICLR 2018.",
        config=AmpConfig,
        work=_work,
        rules=SAME_FLOPS,
        words=lambda s: f"{s['dtype']} mixed precision",
    ),
    hooks=Amp,
)
