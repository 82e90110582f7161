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


def test_values_of_the_wrong_kind_fall_back_to_the_defaults():
    raw = {"time_limit_min": -1, "queue_quota": 2.5, "models_cap_gib": "big"}
    (paths.app_data_dir() / "settings.json").write_text(json.dumps(raw))
    assert lab_settings.load() == lab_settings.LabSettings()
    (paths.app_data_dir() / "settings.json").write_text(json.dumps({"queue_quota": None, "models_cap_gib": 2}))
    assert lab_settings.load().queue_quota is None and lab_settings.load().models_cap_mib == 2048


# --- a shared store (a class database) holds them -----------------------------------------------------------------
def test_a_shared_store_holds_the_settings_every_server_reads(store):
    from efficiency.store import RunStore

    wanted = lab_settings.LabSettings(time_limit_min=5.0, queue_quota=2, models_cap_gib=1.5)
    lab_settings.save(wanted, store)
    assert not (paths.app_data_dir() / "settings.json").exists(), "the store, not this machine's file"
    other_server = RunStore(store.url)
    assert lab_settings.load(other_server) == wanted
    lab_settings.save(lab_settings.LabSettings(time_limit_min=None, queue_quota=None), other_server)
    assert lab_settings.load(store).time_limit_s is None and lab_settings.load(store).queue_quota is None
    other_server.engine.dispose()


def test_the_local_files_values_go_into_a_shared_store_once(store):
    (paths.app_data_dir() / "settings.json").write_text(json.dumps({"time_limit_min": 7, "queue_quota": 4}))
    assert lab_settings.load(store) == lab_settings.LabSettings(time_limit_min=7.0, queue_quota=4)
    (paths.app_data_dir() / "settings.json").write_text(json.dumps({"time_limit_min": 9}))  # another machine's
    assert lab_settings.load(store).time_limit_min == 7.0, "once seeded, the store's values rule"


def test_without_a_store_given_the_store_of_efflab_store_is_read(store, monkeypatch):
    monkeypatch.setenv("EFFLAB_STORE", store.url)
    lab_settings.save(lab_settings.LabSettings(time_limit_min=3.0))
    try:
        assert lab_settings.load(store).time_limit_min == 3.0
        assert lab_settings.load().time_limit_s == 180
    finally:
        lab_settings._opened.cache_clear()


def test_the_personal_store_keeps_the_file():
    from efficiency.store import RunStore

    personal = RunStore()
    lab_settings.save(lab_settings.LabSettings(time_limit_min=4.0), personal)
    assert json.loads((paths.app_data_dir() / "settings.json").read_text())["time_limit_min"] == 4.0
    assert personal.read_settings() == {}
