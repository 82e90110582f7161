"""The one check of a config before it runs, used alike by the CLI, the worker and the app.

A config's own settings are checked by `RunConfig.validate`; the techniques against each other, the
model (a well-formed name, max_length within its own limit), the dataset's name and the device are
checked here, where config, techniques and device are all known. Nothing here loads a model or a
dataset: the page checks on every rerun.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from efficiency.techniques import validate_techniques

if TYPE_CHECKING:
    import torch

    from efficiency.config import RunConfig


def checked_device(config: RunConfig) -> torch.device:
    """The device `config` runs on, after refusing any impossible setting with a message that says what to change."""
    from efficiency.devices import run_device  # torch: on the first check, not when a page imports this

    config.validate()
    check_model(config)
    check_dataset_name(config.data.dataset)
    device = run_device(config.model.name, config.device)
    validate_techniques(config, device)  # the combinations that depend on the device (amp, quant)
    return device


def check_model(config: RunConfig) -> None:
    """A model name that can be looked for, and a max_length within the model's own position limit."""
    from efficiency.model_files import check_hub_id, check_max_length

    check_hub_id(config.model.name)
    check_max_length(config.model.name, config.data.max_length)


def check_dataset_name(dataset: str) -> None:
    """A catalog name that exists (family and language), or a file: refused in words before a run is recorded."""
    from efficiency.data.catalog import resolve
    from efficiency.data.userfile import looks_like_file

    if not looks_like_file(dataset):
        resolve(dataset)


def device_name(config: RunConfig) -> str:
    """'cpu', 'cuda:0' or 'mps': the device `config` would take, the key the queue orders runs by."""
    from efficiency.devices import run_device

    return str(run_device(config.model.name, config.device))


def problem(config: RunConfig) -> str | None:
    """The first impossible setting as a message (None when the config can run): for a page's live check."""
    from efficiency.errors import EfficiencyError

    try:
        checked_device(config)
    except EfficiencyError as exc:
        return str(exc)
    return None
