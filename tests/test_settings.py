"""The teacher's settings survive a restart; unknown keys from another version are ignored."""

import json

from efficiency import paths, settings


def test_defaults_then_saved_values():
    assert settings.load().time_limit_min == settings.DEFAULT_TIME_LIMIT_MIN
    settings.save(settings.LabSettings(time_limit_min=None))
    assert settings.load().time_limit_s is None
    settings.save(settings.LabSettings(time_limit_min=2.5))
    assert settings.load().time_limit_s == 150


def test_unknown_or_broken_files():
    (paths.app_data_dir() / "settings.json").write_text(json.dumps({"time_limit_min": 3, "future": 1}))
    assert settings.load().time_limit_min == 3
    (paths.app_data_dir() / "settings.json").write_text("{not json")
    assert settings.load() == settings.LabSettings()
