"""Where the lab keeps things: the models and uploads folders may be a mount several machines share."""

from __future__ import annotations

import sys

from efficiency import paths


def test_models_and_uploads_live_in_the_app_data_folder_unless_moved(isolated_home, tmp_path, monkeypatch):
    assert paths.models_dir() == isolated_home / "models"
    assert paths.uploads_dir() == isolated_home / "uploads"
    monkeypatch.setenv("EFFLAB_MODELS", str(tmp_path / "mnt" / "models"))
    monkeypatch.setenv("EFFLAB_UPLOADS", str(tmp_path / "mnt" / "uploads"))
    assert paths.models_dir() == tmp_path / "mnt" / "models" and paths.models_dir().is_dir()
    assert paths.uploads_dir() == tmp_path / "mnt" / "uploads" and paths.uploads_dir().is_dir()


def test_without_platformdirs_the_folders_are_linuxs_defaults(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "platformdirs", None)  # a bare GPU image has no platformdirs
    monkeypatch.delenv("EFFLAB_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setattr(sys, "platform", "linux")
    assert paths.app_data_dir() == tmp_path / ".local" / "share" / "efficiency-lab"
