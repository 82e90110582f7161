"""What every recipe shares: the run's hooks into the store, the prepared data and config, the result.

A recipe is a run read top to bottom (torchtune's recipes are the model): `finetune` for
transformers, `baseline` for TF-IDF + logistic regression. Both begin with `prepare` (load the
data, resolve the recommended defaults and store them, so the stored config reproduces the run)
and end in a `RecipeResult` whose metrics come from one measurement sheet.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import torch

from efficiency import data as datasets
from efficiency.config import RunConfig
from efficiency.data import LabelledDataset
from efficiency.measure.carbon import resolve_country
from efficiency.measure.timer import PhaseTimer
from efficiency.model_names import TINY
from efficiency.runs.uploads import materialised
from efficiency.techniques import Pipeline
from efficiency.techniques import build as build_techniques

if TYPE_CHECKING:  # the store needs SQLAlchemy; a recipe run without one (the device check) takes a stand-in
    from efficiency.store import RunStore

DEFAULT_LEARNING_RATES = {TINY: 1e-3}  # measured: a random tiny model needs a higher rate
DEFAULT_LEARNING_RATE = 2e-4  # measured on MiniLM + NusaX-senti: 5e-5 stays under 0.5 macro-F1 in 3 epochs

StatusFn = Callable[[str], None]
ProgressFn = Callable[[dict[str, Any]], None]


@dataclass
class RunHooks:
    """How a recipe talks to the world while it runs: the store, progress rows, the stop flag, status lines."""

    store: RunStore
    run_id: int
    progress: ProgressFn
    stop: threading.Event
    say: StatusFn


@dataclass
class Prepared:
    """The data loaded, the config with its defaults resolved, the techniques built (nothing applied yet)."""

    config: RunConfig
    dataset: LabelledDataset
    techniques: Pipeline
    device: torch.device
    timer: PhaseTimer
    batch_choice: dict[str, Any] | None = None  # the measured batch size and its sweep (train.measure_batch_size)


@dataclass
class RecipeResult:
    status: str  # finished | stopped
    config: RunConfig  # resolved: what the run really used
    metrics: dict[str, Any]
    curves: dict[str, Any]
    model_path: str | None
    environment: dict[str, Any] = field(default_factory=dict)  # added to the run's environment record


def prepare(config: RunConfig, device: torch.device, hooks: RunHooks) -> Prepared:
    """Load the data and resolve the config's recommended defaults; the resolved config is stored at once."""
    timer = PhaseTimer(device)
    with timer.phase("load_data"):
        local = materialised(config.data.dataset, hooks.store)  # an upload queued on another machine: here now
        config = dataclasses.replace(config, data=dataclasses.replace(config.data, dataset=local))
        dataset = datasets.load_dataset(config.data, config.seed)
    techniques = build_techniques(config)
    resolved = resolve_defaults(config, dataset.default_max_length, techniques)
    hooks.store.update_config(hooks.run_id, resolved.to_dict())
    return Prepared(resolved, dataset, techniques, device, timer)


def resolve_defaults(config: RunConfig, default_max_length: int, techniques: Pipeline | None = None) -> RunConfig:
    """Fill the 'recommended default' fields, so the stored config reproduces the run."""
    resolved = RunConfig.from_dict(config.to_dict())
    if resolved.data.max_length is None:
        resolved.data.max_length = default_max_length
    if resolved.train.learning_rate is None:
        technique_rate = (techniques or build_techniques(config)).default_learning_rate()
        resolved.train.learning_rate = technique_rate or DEFAULT_LEARNING_RATES.get(
            config.model.name, DEFAULT_LEARNING_RATE
        )
    if resolved.measure.country is None:
        resolved.measure.country = resolve_country(None)
    return resolved
