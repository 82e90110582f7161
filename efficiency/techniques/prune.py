"""Pruning: zero the smallest weights (unstructured), or remove whole attention heads or layers (structured).

Unstructured magnitude pruning uses torch.nn.utils.prune (global, L1) over the encoder's Linear
weights, once after training or gradually during fine-tuning on a cubic schedule (Zhu & Gupta,
2018). Its zeros are stored densely, so dense kernels run no faster: the run measures latency
and shows it. Structured pruning removes heads (slicing the query, key, value and output
projections; transformers 5 has no `prune_heads`) or layers before fine-tuning, and does make
the model smaller and faster.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from efficiency.errors import ConfigError
from efficiency.fields import setting
from efficiency.techniques.base import Technique, TechniqueContext
from efficiency.techniques.facts import TechniqueFacts, Work, share_of
from efficiency.techniques.registry import register

if TYPE_CHECKING:
    import torch

GRADUAL_END = 0.75  # the cubic schedule reaches the target at 75% of training, then fine-tunes at it


@dataclass
class PruneConfig:
    method: str = setting(
        "magnitude",
        "magnitude: zero the smallest weights; heads: remove the attention heads with the smallest weight norm (a "
        "cheap stand-in for Michel et al.'s gradient importance), before fine-tuning; layers: remove whole layers.",
        ("magnitude", "heads", "layers"),
    )
    sparsity: float = setting(0.5, "Share to remove: of the encoder's Linear weights, of the heads, or of the layers.")
    schedule: str = setting(
        "oneshot",
        "magnitude only: oneshot (after training) or gradual (cubic, during fine-tuning).",
        ("oneshot", "gradual"),
    )
    prune_every: int = setting(10, "gradual only: steps between pruning updates.", at_most=100_000)

    def check(self) -> None:
        if not 0 <= self.sparsity < 1:
            raise ConfigError(f"prune.sparsity is {self.sparsity}: use a share from 0 up to (not including) 1.")
        if self.prune_every < 1:
            raise ConfigError(f"prune.prune_every is {self.prune_every}: use at least 1.")


class Prune(Technique):
    """Pruning's hooks: structured before fine-tuning, magnitude during or after it."""

    priority: ClassVar[int] = 1  # after distillation has made the student; before quantization

    def __init__(self, params: dict[str, Any] | None = None) -> None:
        super().__init__(params)
        self._targets: list[tuple[torch.nn.Module, str]] = []
        self._total_steps = 0

    @property
    def keep_last_epoch(self) -> bool:
        return self.config.method == "magnitude" and self.config.schedule == "gradual"

    @property
    def stage_of(self) -> str:
        return "after_training" if self.config.method == "magnitude" and self.config.schedule == "oneshot" else "model"

    def check(self, run: Any, device: torch.device) -> None:
        if self.config.method != "magnitude" and self.config.schedule == "gradual":
            raise ConfigError("prune:schedule=gradual applies to magnitude pruning: use method=magnitude, or oneshot.")
        if self.config.method == "heads" and any(t.name == "prefix" for t in run.techniques):
            raise ConfigError(
                "Prefix tuning needs every attention head it was built for: do not combine it with head pruning."
            )

    # --- structured: before fine-tuning ------------------------------------------------------
    def transform_model(self, model: torch.nn.Module, ctx: TechniqueContext) -> torch.nn.Module:
        from torch.nn.utils import prune as torch_prune

        if self.config.method == "heads":
            removed = prune_heads_by_magnitude(model, self.config.sparsity)
            self.stats.update(heads_removed=removed, heads_total=_heads_total(model) + removed)
        elif self.config.method == "layers":
            kept = drop_layers(model, self.config.sparsity)
            self.stats.update(layers_kept=kept)
        elif self.config.schedule == "gradual":
            self._targets = linear_weights(model)
            for module, name in self._targets:
                torch_prune.identity(module, name)  # installs the mask, so later steps only update it
        return model

    # --- keeping the model: removed layers are in its config, removed heads are not ---------------
    def kept_shape(self, model: torch.nn.Module) -> dict[str, Any]:
        if self.config.method != "heads":
            return {}
        return {"attention_heads": [_heads_of(layer) for layer in _encoder_layers(model)]}

    def rebuild(self, model: torch.nn.Module, shape: dict[str, Any]) -> torch.nn.Module:
        if self.config.method != "heads":
            return model
        layers = _encoder_layers(model)
        kept = shape.get("attention_heads")
        if not isinstance(kept, list) or len(kept) != len(layers):
            raise ConfigError("The kept model does not say how many heads each layer kept: train the run again.")
        for layer, count in zip(layers, kept, strict=True):
            total = _heads_of(layer)
            if not isinstance(count, int) or not 0 < count <= total:
                raise ConfigError(f"The kept model lists {count!r} heads for a layer of {total}: train the run again.")
            if count < total:  # which heads does not matter: the kept weights fill whichever remain
                slice_heads(layer, list(range(count, total)))
        return model

    # --- unstructured, gradual: during fine-tuning ---------------------------------------------
    def on_step(self, step: int, total_steps: int, model: torch.nn.Module) -> None:
        if not self._targets or step % self.config.prune_every:
            return
        progress = min(1.0, step / max(1, int(GRADUAL_END * total_steps)))
        target = self.config.sparsity * (1 - (1 - progress) ** 3)
        _set_global_sparsity(self._targets, target)

    # --- unstructured: after training ------------------------------------------------------------
    def after_training(self, model: torch.nn.Module, ctx: TechniqueContext) -> torch.nn.Module:
        from torch.nn.utils import prune as torch_prune

        if self.config.method != "magnitude":
            return model
        before = None
        if self.config.schedule == "oneshot":
            # Measured on the dense model first: that zeros buy no speed on dense kernels is shown, not assumed.
            before = ctx.measure(model) if ctx.measure else None
            self._targets = linear_weights(model)
            torch_prune.global_unstructured(
                self._targets, pruning_method=torch_prune.L1Unstructured, amount=self.config.sparsity
            )
        else:
            _set_global_sparsity(self._targets, self.config.sparsity)  # the schedule's end, exactly
        for module, name in self._targets:
            torch_prune.remove(module, name)  # make the zeros permanent (no mask buffers in the saved model)
        zeros = sum(int((getattr(m, n) == 0).sum()) for m, n in self._targets)
        total = sum(getattr(m, n).numel() for m, n in self._targets)
        if total == 0:
            raise ConfigError("Magnitude pruning found no Linear layer to prune in the encoder of this model.")
        self.stats.update(
            sparsity_target=self.config.sparsity,
            sparsity_reached=zeros / total,
            pruned_weights=zeros,
            prunable_weights=total,
            size_dense_mb=_bytes_dense(model) / 2**20,
            size_sparse_mb=_bytes_sparse(model) / 2**20,
        )
        if before is not None and ctx.measure:
            self.stats.update(before_label="dense", after_label="pruned", before=before, after=ctx.measure(model))
        return model


def linear_weights(model: torch.nn.Module) -> list[tuple[torch.nn.Module, str]]:
    """The encoder's Linear weights: not the embeddings, not the classification head."""
    import torch

    return [
        (module, "weight")
        for name, module in model.named_modules()
        if isinstance(module, torch.nn.Linear) and ".encoder." in f".{name}." and "classifier" not in name
    ]


def _set_global_sparsity(targets: list[tuple[torch.nn.Module, str]], amount: float) -> None:
    """Recompute masks from the original weights so that exactly `amount` of them are zero, globally."""
    import torch

    originals = [getattr(m, f"{n}_orig") for m, n in targets]
    scores = torch.cat([w.detach().abs().flatten() for w in originals])
    k = round(amount * scores.numel())
    threshold = torch.kthvalue(scores, k).values if k > 0 else scores.min() - 1
    for (module, name), weight in zip(targets, originals, strict=True):
        mask = (weight.detach().abs() > threshold).to(weight.dtype)
        getattr(module, f"{name}_mask").copy_(mask)


def _encoder_layers(model: torch.nn.Module) -> torch.nn.ModuleList:
    base = getattr(model, model.base_model_prefix, model)
    layers = getattr(getattr(base, "encoder", None), "layer", None)
    if layers is None:
        raise ConfigError("Structured pruning knows BERT-style encoders (encoder.layer): this model is not one.")
    return layers


def _heads_of(layer: torch.nn.Module) -> int:
    return layer.attention.self.query.out_features // layer.attention.self.attention_head_size


def _heads_total(model: torch.nn.Module) -> int:
    return sum(_heads_of(layer) for layer in _encoder_layers(model))


def prune_heads_by_magnitude(model: torch.nn.Module, share: float) -> int:
    """Remove the `share` of heads with the smallest weight norm (query, key, value rows and output columns)."""
    layers = _encoder_layers(model)
    scores = []
    for li, layer in enumerate(layers):
        attn = layer.attention.self
        size = attn.attention_head_size
        heads = attn.query.out_features // size
        for h in range(heads):
            rows = slice(h * size, (h + 1) * size)
            norm = sum(float(p.weight.detach()[rows].norm()) for p in (attn.query, attn.key, attn.value))
            norm += float(layer.attention.output.dense.weight.detach()[:, rows].norm())
            scores.append((norm, li, h))
    heads_per_layer = {
        li: layers[li].attention.self.query.out_features // layers[li].attention.self.attention_head_size
        for li in range(len(layers))
    }
    drop = int(share * len(scores))
    removed: dict[int, set[int]] = {}
    for _, li, h in sorted(scores):
        if sum(len(v) for v in removed.values()) == drop:
            break
        if len(removed.get(li, ())) + 1 < heads_per_layer[li]:  # keep at least one head per layer
            removed.setdefault(li, set()).add(h)
    for li, heads in removed.items():
        slice_heads(layers[li], sorted(heads))
    return sum(len(h) for h in removed.values())


def slice_heads(layer: torch.nn.Module, heads: list[int]) -> None:
    """Cut `heads` out of one BERT layer's attention: rows of Q, K, V and columns of the output projection."""
    import torch

    with torch.no_grad():
        attn, out = layer.attention.self, layer.attention.output.dense
        size = attn.attention_head_size
        total = attn.query.out_features // size
        keep = torch.tensor([i for h in range(total) if h not in heads for i in range(h * size, (h + 1) * size)])
        for proj_name in ("query", "key", "value"):
            old = getattr(attn, proj_name)
            new = torch.nn.Linear(
                old.in_features, len(keep), bias=old.bias is not None, device=old.weight.device, dtype=old.weight.dtype
            )
            new.weight.copy_(old.weight[keep])
            if old.bias is not None:
                new.bias.copy_(old.bias[keep])
            setattr(attn, proj_name, new)
        new_out = torch.nn.Linear(
            len(keep), out.out_features, bias=out.bias is not None, device=out.weight.device, dtype=out.weight.dtype
        )
        new_out.weight.copy_(out.weight[:, keep])
        if out.bias is not None:
            new_out.bias.copy_(out.bias)
        layer.attention.output.dense = new_out
        attn.num_attention_heads = total - len(heads)
        attn.all_head_size = attn.num_attention_heads * size


def drop_layers(model: torch.nn.Module, share: float) -> list[int]:
    """Remove `share` of the layers, evenly spread (the first layer always stays); returns the kept indices."""
    layers = _encoder_layers(model)
    n = len(layers)
    n_drop = min(n - 1, round(share * n))
    if n_drop == 0:
        return list(range(n))
    step = n / n_drop
    dropped = {min(n - 1, int((i + 1) * step) - 1) for i in range(n_drop)}
    dropped.discard(0)
    kept = [i for i in range(n) if i not in dropped]
    import torch

    base = getattr(model, model.base_model_prefix, model)
    base.encoder.layer = torch.nn.ModuleList(layers[i] for i in kept)
    model.config.num_hidden_layers = len(kept)
    return kept


def _bytes_dense(model: torch.nn.Module) -> int:
    import torch

    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    return buffer.tell()


def _bytes_sparse(model: torch.nn.Module) -> int:
    """Bytes when the pruned matrices are stored in CSR: values, int32 column indices and row pointers.

    Each kept weight costs 4 bytes of value and 4 of index, so CSR is smaller than dense only above
    50% sparsity: a lesson in itself.
    """
    import torch

    state: dict[str, torch.Tensor] = {}
    for key, tensor in model.state_dict().items():
        if tensor.ndim == 2 and tensor.is_floating_point() and bool((tensor == 0).any()):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # CSR support is 'beta'; we only read its arrays
                csr = tensor.to_sparse_csr()
            state[f"{key}.values"] = csr.values()
            state[f"{key}.col_indices"] = csr.col_indices().to(torch.int32)
            state[f"{key}.crow_indices"] = csr.crow_indices().to(torch.int32)
        else:
            state[key] = tensor
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.tell()


# --- cost rule of thumb (efficiency/estimate.py) -----------------------------------------------------
RULES = {
    "layers": "the kept share of the layers",
    "heads": "attention is about a third of a layer's FLOPs at these lengths",
    "magnitude": "same FLOPs: zeros in dense matrices still cost",
}


def _work(settings: Mapping[str, Any], num_layers: int | None) -> Work:
    method, sparsity = settings["method"], settings["sparsity"]
    if method == "layers":
        return Work(RULES[method], method, layer_share=1 - sparsity)
    if method == "heads":
        return Work(RULES[method], method, layer_share=1 - sparsity / 3)
    return Work(RULES[method], method)


def in_words(settings: Mapping[str, Any]) -> str:
    """'Half the layers removed', 'Half the weights zeroed, gradually'."""
    if settings["method"] == "magnitude":
        gradually = ", gradually" if settings["schedule"] == "gradual" else ""
        return f"{share_of(settings['sparsity'], 'weights').capitalize()} zeroed{gradually}"
    return f"{share_of(settings['sparsity'], settings['method']).capitalize()} removed"


register(
    TechniqueFacts(
        name="prune",
        title="Pruning",
        pillar="compute",
        stage="model",  # structured pruning shapes the model; magnitude pruning acts later (see stage_of)
        summary="Remove the least important weights, heads or layers.",
        lesson=(
            "Most weights of a fine-tuned transformer can be zeroed with little loss of accuracy, but zeros stored in "
            "dense matrices save nothing at run time: only sparse kernels or structure (whole heads, whole layers) "
            "make the model faster. Mirashi et al. (2024) pruned 25% of a Marathi BERT and distilled it, 2.56x faster "
            "at the baseline's accuracy."
        ),
        citation=(
            "Zhu & Gupta (2018). To prune, or not to prune. ICLR Workshop; Michel, Levy & Neubig (2019). Are Sixteen "
            "Heads Really Better than One? NeurIPS 2019; Mirashi et al. (2024). On Importance of Pruning and "
            "Distillation for Efficient Low Resource NLP."
        ),
        config=PruneConfig,
        work=_work,
        rules=RULES,
        words=in_words,
        reshapes_model=True,
    ),
    hooks=Prune,
)
