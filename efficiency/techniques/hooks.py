"""Every hook the pipeline may call on a technique: the one documented list.

A technique implements only the hooks it needs; the pipeline (techniques/__init__.py) asks each one
whether it has a hook before calling it, in the fixed order of stages. A test checks that every hook
name the pipeline dispatches on is listed here, and that no technique defines a hook not listed here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import torch

    from efficiency.config import RunConfig
    from efficiency.data.splits import TextSplit
    from efficiency.techniques.base import TechniqueContext


class TechniqueHooks(Protocol):
    """The hooks and hook attributes of a technique; all optional except `name` and `report`."""

    name: str  # the registry name (from its facts)
    priority: int  # order within its stage, lower first (default 1): distillation's student before pruning
    stage_of: str  # its stage for these settings, where they move it (default: its facts' stage)
    keep_last_epoch: bool  # keep the last epoch, not the best on validation (a schedule that ends at its target)
    default_learning_rate: float  # the learning rate it needs when the run leaves it to the technique

    def check(self, run: RunConfig, device: torch.device) -> None:
        """Refuse an impossible combination of settings, techniques or device, with a ConfigError."""

    def filter_data(self, train: TextSplit, ctx: TechniqueContext) -> TextSplit:
        """The data stage: the training examples kept."""

    def make_selector(self, split: Any, pad_id: int, device: torch.device, autocast: Any, flops: Any) -> Any:
        """An in-loop example selector (offer/observe/flush/summary), or None: data chosen while training."""

    def transform_model(self, model: torch.nn.Module, ctx: TechniqueContext) -> torch.nn.Module:
        """The model and adapter stages: the model to train (a student, pruned, wrapped, partly frozen)."""

    def load_options(self) -> dict[str, Any]:
        """Extra from_pretrained arguments for the base model (bitsandbytes quantization)."""

    def example_losses(self, logits: torch.Tensor, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Per-example training losses in place of cross-entropy (distillation's soft targets)."""

    def autocast_dtype(self, device: torch.device) -> torch.dtype:
        """The precision stage: the dtype forward passes run in under autocast."""

    def needs_grad_scaler(self) -> bool:
        """Whether backward needs loss scaling (fp16's narrow range)."""

    def fused_optimizer(self, device: torch.device) -> bool:
        """Whether AdamW steps with its fused kernel (one pass over the weights) rather than foreach."""

    def on_step(self, step: int, total_steps: int, model: torch.nn.Module) -> None:
        """After each optimiser step (gradual pruning's schedule)."""

    def after_training(self, model: torch.nn.Module, ctx: TechniqueContext) -> torch.nn.Module:
        """After the best epoch is restored, before the test: the model to test (merged, pruned, quantized)."""

    def kept_shape(self, model: torch.nn.Module) -> dict[str, Any]:
        """What rebuilding the kept model needs that its transformers config does not hold (plain JSON data)."""

    def rebuild(self, model: torch.nn.Module, shape: dict[str, Any]) -> torch.nn.Module:
        """Reshape an untrained model of the kept config as this technique left the trained one (weights come after)."""

    def report(self) -> dict[str, Any]:
        """What it did, stored under metrics["techniques"][name]."""


def hook_names() -> frozenset[str]:
    """The names listed in TechniqueHooks: attributes and methods."""
    methods = {n for n, v in vars(TechniqueHooks).items() if callable(v) and not n.startswith("_")}
    return frozenset(methods | set(TechniqueHooks.__annotations__))


HOOK_NAMES = hook_names()
