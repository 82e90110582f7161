"""Keeping a trained model as plain data, and rebuilding it: nothing kept is ever unpickled.

A kept transformer is its weights (safetensors), its transformers config (JSON), its tokenizer files
and a manifest (`kept.json`) naming the techniques of the run. Loading builds the architecture from
the config (no remote code), lets each technique that reshaped the model reshape it again with its
own code (head slicing, dynamic int8, an unmerged adapter: the `rebuild` hook), then loads the
weights strictly: a missing or extra tensor is refused, not ignored. Quantized Linear layers keep
their int8 weights, scale and zero point as plain tensors. A kept model is read only from inside the
lab's models folder (`kept_folder`); a folder of an older, pickled format there is refused unread.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections import OrderedDict
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from efficiency import baselines, paths
from efficiency.config import RunConfig, TechniqueSpec
from efficiency.errors import ModelLoadError
from efficiency.techniques import Pipeline, build

FORMAT = 1
MANIFEST = "kept.json"  # written last: a folder without it was never finished, or is of an older format
WEIGHTS = "model.safetensors"
# torch.ao's dynamic int8 Linear keeps (int8 weight, bias) packed in one object; kept as four tensors.
PACKED = "._packed_params._packed_params"
PACKED_DTYPE = "._packed_params.dtype"
INT8_PARTS = ("int8_weight", "int8_scale", "int8_zero_point", "int8_bias")

OLDER_FORMAT = (
    "This run's model was kept in an older format, which the lab no longer loads (loading it could run code "
    "hidden in the file): train the run again with 'Keep the trained model' on (--save-model)."
)


def save_model(model: torch.nn.Module, tokenizer: Any, folder: Path, run: RunConfig, techniques: Pipeline) -> str:
    """Keep `model` in `folder`: weights, config, tokenizer, and the techniques that rebuild its shape."""
    shape = techniques.kept_shape(model)  # first: a technique whose model cannot be kept refuses before any write
    state = plain_state(model)
    folder.mkdir(parents=True, exist_ok=True)
    base_model(model).config.to_json_file(folder / "config.json")
    save_file(state, folder / WEIGHTS, metadata={"format": f"efficiency-lab-{FORMAT}"})
    tokenizer.save_pretrained(folder)
    manifest = {
        "format": FORMAT,
        "kind": "transformer",
        "model": run.model.name,
        "techniques": [dataclasses.asdict(spec) for spec in run.techniques],
        "shape": shape,
    }
    (folder / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    return str(folder)


def load_model(folder: Path) -> tuple[torch.nn.Module, Any]:
    """The kept model (on the CPU, in eval mode) and its tokenizer, rebuilt from plain data only."""
    from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer

    manifest = read_manifest(folder)
    techniques = build(RunConfig(techniques=[TechniqueSpec(**spec) for spec in manifest.get("techniques", [])]))
    config = AutoConfig.from_pretrained(folder, trust_remote_code=False, local_files_only=True)
    model = AutoModelForSequenceClassification.from_config(config, trust_remote_code=False)
    model = techniques.rebuild(model, manifest.get("shape") or {})
    load_plain_state(model, load_file(folder / WEIGHTS))
    tokenizer = AutoTokenizer.from_pretrained(folder, trust_remote_code=False, local_files_only=True)
    return model.eval(), tokenizer


def loadable(model_path: str | os.PathLike[str]) -> bool:
    """Whether a kept model can be loaded: inside the models folder and in the current format."""
    try:
        kept_folder(model_path)
    except ModelLoadError:
        return False
    return True


def kept_folder(model_path: str | os.PathLike[str]) -> Path:
    """The kept model's folder, resolved: inside the lab's models folder, no link out of it, a current format."""
    root = paths.models_dir().resolve()
    folder = Path(model_path).resolve()  # follows links: a folder linked to elsewhere resolves elsewhere
    if root not in folder.parents:
        raise ModelLoadError(
            "This run's model is stored outside the lab's models folder, so it is not loaded: "
            "train the run again with 'Keep the trained model' on."
        )
    if not folder.is_dir():
        raise ModelLoadError(
            "This run's kept model folder is gone (deleted or moved): train the run again "
            "with 'Keep the trained model' on."
        )
    for parent, dirs, files in os.walk(folder):  # does not follow links, so each one is checked here
        for name in dirs + files:
            entry = Path(parent) / name
            if entry.is_symlink() and root not in entry.resolve().parents:
                raise ModelLoadError(
                    "This run's kept model folder links to a file outside the lab's models folder, so it is "
                    "not loaded: train the run again with 'Keep the trained model' on."
                )
    if not (folder / MANIFEST).is_file() and not (folder / baselines.MANIFEST).is_file():
        raise ModelLoadError(OLDER_FORMAT)
    return folder


def read_manifest(folder: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"This run's kept model has no readable {MANIFEST}: train the run again.") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ModelLoadError("This run's kept model is of another format: train the run again.")
    return manifest


def base_model(model: torch.nn.Module) -> Any:
    """The transformers model inside a PEFT wrapper (or the model itself)."""
    get_base = getattr(model, "get_base_model", None)
    return get_base() if callable(get_base) else model


def plain_state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The state dict as plain tensors safetensors can write: packed int8 weights unpacked, shared storage copied."""
    state: dict[str, torch.Tensor] = {}
    storages: set[int] = set()
    for key, value in model.state_dict().items():
        if key.endswith(PACKED_DTYPE):
            if value != torch.qint8:
                raise ModelLoadError(f"{key} holds {value} weights: the lab keeps int8 quantized layers only.")
            continue
        if key.endswith(PACKED):
            state.update(_unpacked(key.removesuffix(PACKED), *value))
            continue
        if not isinstance(value, torch.Tensor) or value.is_quantized:
            raise ModelLoadError(f"{key} is a {type(value).__name__}, which the lab cannot keep as plain tensors.")
        tensor = value.detach().cpu().contiguous()
        storage = tensor.untyped_storage().data_ptr()
        if tensor.numel() and storage in storages:  # tied weights: safetensors refuses shared storage
            tensor = tensor.clone()
        storages.add(storage)
        state[key] = tensor
    return state


def _unpacked(prefix: str, weight: torch.Tensor, bias: torch.Tensor | None) -> dict[str, torch.Tensor]:
    if weight.qscheme() not in (torch.per_tensor_affine, torch.per_tensor_symmetric):
        raise ModelLoadError(f"{prefix} is quantized per channel: the lab keeps per-tensor int8 layers only.")
    parts = {
        f"{prefix}.int8_weight": weight.int_repr(),
        f"{prefix}.int8_scale": torch.tensor(weight.q_scale(), dtype=torch.float64),
        f"{prefix}.int8_zero_point": torch.tensor(weight.q_zero_point(), dtype=torch.int64),
    }
    if bias is not None:
        parts[f"{prefix}.int8_bias"] = bias.detach().cpu().contiguous()
    return parts


def load_plain_state(model: torch.nn.Module, state: dict[str, torch.Tensor]) -> None:
    """Load kept tensors into the rebuilt model, strictly: packed int8 weights packed again."""
    state = dict(state)
    expected = model.state_dict()
    restored: Any = OrderedDict()
    # The rebuilt model's module versions: torch.ao's quantized Linear reads its packed weights by version.
    restored._metadata = getattr(expected, "_metadata", None)
    for key, value in expected.items():
        if key.endswith(PACKED_DTYPE):
            restored[key] = value
        elif key.endswith(PACKED):
            prefix = key.removesuffix(PACKED)
            try:
                int8, scale, zero_point = (state.pop(f"{prefix}.{part}") for part in INT8_PARTS[:3])
            except KeyError as exc:
                raise ModelLoadError(f"The kept weights lack {exc.args[0]}: train the run again.") from exc
            # Dequantized and quantized again with the same scale and zero point: the same int8 values.
            scale_f, zero = float(scale), int(zero_point)
            weight = torch.quantize_per_tensor((int8.float() - zero) * scale_f, scale_f, zero, torch.qint8)
            restored[key] = (weight, state.pop(f"{prefix}.int8_bias", None))
    restored.update(state)
    try:
        model.load_state_dict(restored, strict=True)
    except RuntimeError as exc:
        first = str(exc).splitlines()[1].strip() if len(str(exc).splitlines()) > 1 else str(exc)
        raise ModelLoadError(f"The kept weights do not fit the rebuilt model ({first}): train the run again.") from exc
