"""The teacher's cap on kept models' disk use: the oldest kept models make room, or a new one is not kept.

When a run would keep its model and the lab's models folder, with the new model, would pass the cap
(`LabSettings.models_cap_gib`), the kept models of ended runs are removed, the longest ended first, until
the new one fits. A running run's model is never removed, nor anything outside the models folder, nor a
file no run names. If that is not enough, the new model is not kept: its run's figures are, and its card
says why. A removed model's run says so on its card too.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING

from efficiency import lab_settings, paths

if TYPE_CHECKING:  # the store needs SQLAlchemy; the device check runs recipes without it
    from efficiency.store import RunStore


def folder_mib(folder: Path) -> float:
    """The bytes of the files under `folder`, in MiB (links are not followed, so nothing outside counts)."""
    total_bytes = 0
    for parent, _dirs, files in os.walk(folder):
        for name in files:
            entry = Path(parent) / name
            if not entry.is_symlink():
                total_bytes += entry.stat().st_size
    return total_bytes / 2**20


def make_room(store: RunStore, needed_mib: float) -> str | None:
    """Room under the teacher's cap for a model of about `needed_mib`: None when it fits, else why it is not kept."""
    cap_mib = lab_settings.load(store).models_cap_mib
    if cap_mib is None:
        return None
    root = paths.models_dir().resolve()
    used_mib = folder_mib(root)
    cap = _in_words(cap_mib)
    for run_id, model_path in store.kept_models():
        if used_mib + needed_mib <= cap_mib:
            return None
        folder = Path(model_path).resolve()
        if root not in folder.parents or not folder.is_dir():
            continue  # the teacher's cap never removes anything outside the models folder
        why = (
            f"This run's kept model was removed on {time.strftime('%Y-%m-%d %H:%M')} to make room for a newer one: "
            f"the teacher caps kept models at {cap}, and the models of runs that ended longest ago go first."
        )
        if store.forget_kept_model(run_id, model_path, why):
            freed_mib = folder_mib(folder)
            shutil.rmtree(folder, ignore_errors=True)
            used_mib -= freed_mib
    if used_mib + needed_mib <= cap_mib:
        return None
    return (
        f"The trained model was not kept: the models folder holds {used_mib:.0f} MiB and this model needs about "
        f"{needed_mib:.0f} MiB more, past the teacher's cap of {cap} for kept models, and no older run's model is "
        "left to remove. The teacher can raise the cap (Teacher settings) or delete runs whose models are kept."
    )


def _in_words(mib: float) -> str:
    return f"{mib / 1024:g} GiB" if mib >= 1024 else f"{mib:.0f} MiB"
