"""The teacher's settings survive a restart; unknown keys from another version are ignored."""

import json

from efficiency import lab_settings, paths


def test_defaults_then_saved_values():
    assert lab_settings.load().time_limit_min == lab_settings.DEFAULT_TIME_LIMIT_MIN
    lab_settings.save(lab_settings.LabSettings(time_limit_min=None))
    assert lab_settings.load().time_limit_s is None
    lab_settings.save(lab_settings.LabSettings(time_limit_min=2.5))
    assert lab_settings.load().time_limit_s == 150


def test_unknown_or_broken_files():
    (paths.app_data_dir() / "settings.json").write_text(json.dumps({"time_limit_min": 3, "future": 1}))
    assert lab_settings.load().time_limit_min == 3
    (paths.app_data_dir() / "settings.json").write_text("{not json")
    assert lab_settings.load() == lab_settings.LabSettings()
