"""Where the lab keeps its files: the run store, device locks, caches and datasets."""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP_NAME = "efficiency-lab"
REPO_ROOT = Path(__file__).resolve().parent.parent


def app_data_dir() -> Path:
    """The user's application-data folder (the run store lives here, never in a dataset folder)."""
    path = Path(os.environ.get("EFFLAB_HOME") or _user_dir("user_data_dir", ".local/share"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_dir() -> Path:
    """The user cache: downloaded datasets land here."""
    path = Path(os.environ.get("EFFLAB_CACHE") or _user_dir("user_cache_dir", ".cache"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def _user_dir(kind: str, linux_default: str) -> str:
    """platformdirs' folder of this kind; without platformdirs (a bare GPU image), the Linux default under $HOME."""
    try:
        import platformdirs
    except ImportError:
        if sys.platform != "linux":
            raise
        return str(Path.home() / linux_default / APP_NAME)
    return str(getattr(platformdirs, kind)(APP_NAME, appauthor=False))


def data_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The data folder: the explicit setting, else $EFFLAB_DATA_DIR, else ../shared/data, else the cache."""
    if explicit:
        return Path(explicit).expanduser()
    if os.environ.get("EFFLAB_DATA_DIR"):
        return Path(os.environ["EFFLAB_DATA_DIR"]).expanduser()
    shared = REPO_ROOT.parent / "shared" / "data"
    if shared.is_dir():
        return shared
    return cache_dir() / "data"


def models_dir() -> Path:
    """Kept model weights (--save-model): $EFFLAB_MODELS (a folder several machines mount), else app-data's."""
    path = Path(os.environ.get("EFFLAB_MODELS") or app_data_dir() / "models")
    path.mkdir(parents=True, exist_ok=True)
    return path


def uploads_dir() -> Path:
    """Files uploaded on the Experiment page (the worker reads them here; each goes with its last run).

    $EFFLAB_UPLOADS moves them. Each machine has its own: the run store carries an upload to the others.
    """
    path = Path(os.environ.get("EFFLAB_UPLOADS") or app_data_dir() / "uploads")
    path.mkdir(parents=True, exist_ok=True)
    return path


def logs_dir() -> Path:
    """Tracebacks of unexpected errors, one file each: the message names the file, the screen shows no traceback."""
    path = app_data_dir() / "logs"
    path.mkdir(parents=True, exist_ok=True)
    return path
