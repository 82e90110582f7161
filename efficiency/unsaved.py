"""Results the run store refused (a full disk, a lost server): kept as JSON files until they are imported.

A run that trained to the end must not lose its result because the store failed at the last
moment. The runner retries its final write; if the store still refuses it, the result is
written here (plain JSON, never a pickle) and `python -m efficiency runs import FILE` brings
it back once the store works again.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from efficiency import paths
from efficiency.errors import DataError, EfficiencyError
from efficiency.finite import dumps

if TYPE_CHECKING:
    from efficiency.store import RunStore

FORMAT = "efficiency-lab unsaved result"
FINAL_STATUSES = ("finished", "stopped")
MAX_FILE_BYTES = 64 * 1024 * 1024  # a result with its curves is well under 1 MiB; refuse anything absurd


def folders() -> list[Path]:
    """Where unsaved results go: the app-data folder (beside the default store), else the temp folder."""
    return [paths.app_data_dir() / "unsaved-results", Path(tempfile.gettempdir()) / "efficiency-lab-unsaved"]


def save(result: dict[str, Any]) -> Path:
    """Write `result` (run_id, status, config, metrics, ...) to the first folder that takes it; its path."""
    text = dumps({"format": FORMAT, "saved_at": time.time(), **result})
    errors = []
    for folder in folders():
        path = folder / f"run-{result['run_id']}-{time.strftime('%Y%m%d-%H%M%S')}.json"
        partial = path.with_suffix(".partial")
        try:
            folder.mkdir(parents=True, exist_ok=True)
            partial.write_text(text, encoding="utf-8")
            os.replace(partial, path)  # a reader never sees half a file
            return path
        except OSError as exc:
            errors.append(f"{folder}: {exc.strerror or exc}")
            with contextlib.suppress(OSError):
                partial.unlink(missing_ok=True)
    raise EfficiencyError(f"The result could not be written anywhere ({'; '.join(errors)}).")


def find(run_id: int) -> Path | None:
    """The newest unsaved result of run `run_id`, if one is waiting to be imported."""
    found = [p for folder in folders() for p in folder.glob(f"run-{run_id}-*.json")]
    return max(found, key=lambda p: p.stat().st_mtime) if found else None


def load(path: Path) -> dict[str, Any]:
    """An unsaved result read back, its shape checked; a plain message for anything else."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise DataError(f"{path} is too large to be a saved result ({path.stat().st_size:,} bytes).")
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DataError(f"Cannot read {path}: {exc.strerror or exc}.") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"{path} is not a result saved by the lab (not JSON: {exc}).") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise DataError(f"{path} is not a result saved by the lab (it lacks the marker '{FORMAT}').")
    kinds = {"run_id": int, "status": str, "config": dict, "metrics": dict, "curves": dict, "environment": dict}
    for key, kind in kinds.items():
        value = data.get(key)
        if not isinstance(value, kind) or isinstance(value, bool) or (key == "status" and value not in FINAL_STATUSES):
            raise DataError(f"{path} is damaged: its '{key}' is missing or not a {kind.__name__}.")
    return data


def import_file(store: RunStore, path: Path) -> int:
    """Bring a saved result back into the store: into its own run when that run is there, else a new one."""
    data = load(path)
    run_id = data["run_id"]
    record = store.get(run_id)
    if record is not None and record.config == data["config"]:
        if record.status in FINAL_STATUSES and record.metrics:
            raise EfficiencyError(f"Run {run_id} is already in the store ({record.status}); {path} can be deleted.")
        if record.status == "running":
            raise EfficiencyError(f"Run {run_id} is still running: import its result once it has ended.")
    else:
        run_id = store.create_run(data["config"], status="interrupted")  # another store, or the run was deleted
    store.finish(run_id, data["status"], metrics=data["metrics"], curves=data["curves"],
                 environment=data["environment"], error=data.get("error"),
                 model_path=_kept_model(data.get("model_path")))  # fmt: skip
    return run_id


def _kept_model(model_path: Any) -> str | None:
    """A kept model's folder, only when it lies inside the lab's models folder (a file may have been edited)."""
    if not isinstance(model_path, str):
        return None
    folder = Path(model_path).resolve()
    return str(folder) if paths.models_dir().resolve() in folder.parents else None
