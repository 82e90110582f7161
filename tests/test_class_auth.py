"""The teacher PIN: read from the environment or an owner-only file, compared in constant time, guessing slowed."""

from __future__ import annotations

from pathlib import Path

import pytest

from efficiency.class_auth import FREE_TRIES, PinGuard, read_pin
from efficiency.class_server import NO_PIN, class_environment, main, streamlit_command
from efficiency.errors import EfficiencyError


def test_the_pin_comes_from_the_environment_or_an_owner_only_file(tmp_path):
    assert read_pin({}) is None
    assert read_pin({"EFFLAB_TEACHER_PIN": "4711"}) == "4711"
    secret = tmp_path / "pin"
    secret.write_text("2468\n")
    secret.chmod(0o600)
    assert read_pin({"EFFLAB_TEACHER_PIN_FILE": str(secret)}) == "2468"
    secret.chmod(0o644)
    with pytest.raises(EfficiencyError, match="can be read by others: make it yours alone"):
        read_pin({"EFFLAB_TEACHER_PIN_FILE": str(secret)})
    with pytest.raises(EfficiencyError, match="too short"):
        read_pin({"EFFLAB_TEACHER_PIN": "12"})


def test_wrong_tries_beyond_the_first_few_make_every_browser_wait():
    guard = PinGuard("4711")
    for _ in range(FREE_TRIES - 1):
        assert guard.check("0000", now=100.0) == (False, "Wrong PIN.")
    unlocked, message = guard.check("0000", now=100.0)
    assert not unlocked and "Wait 2 s" in message
    assert guard.check("4711", now=101.0)[0] is False, "even the right PIN waits out the lock"
    assert guard.check("4711", now=102.5) == (True, "")
    assert PinGuard(None).check("") == (True, ""), "a personal lab has no PIN"


def test_the_class_server_refuses_to_start_without_a_pin_and_never_puts_it_on_a_command_line(capsys, monkeypatch):
    monkeypatch.delenv("EFFLAB_TEACHER_PIN", raising=False)
    monkeypatch.delenv("EFFLAB_TEACHER_PIN_FILE", raising=False)
    assert main(["--port", "9999"]) == 2
    assert NO_PIN in capsys.readouterr().err
    environment = class_environment({"EFFLAB_TEACHER_PIN": "4711"})
    assert environment["EFFLAB_CLASS"] == "1" and environment["EFFLAB_TEACHER_PIN"] == "4711"
    assert environment["MALLOC_ARENA_MAX"] == "2"  # fewer malloc arenas for a server that reruns in new threads
    assert class_environment({"EFFLAB_TEACHER_PIN": "4711", "MALLOC_ARENA_MAX": "4"})["MALLOC_ARENA_MAX"] == "4"
    command = streamlit_command(9999, "0.0.0.0")
    assert "4711" not in " ".join(command) and "--server.address" in command


def test_the_class_server_starts_streamlit_where_its_settings_are_read_from_any_folder(tmp_path, monkeypatch):
    """No tracebacks in the browser, no file watcher, no full GC per rerun: .streamlit/ is read from the working folder."""
    import os
    import tomllib

    started = {}

    def execve(path, argv, environment):
        started.update(cwd=Path.cwd(), argv=argv, environment=environment)

    monkeypatch.chdir(tmp_path)  # a teacher starting it from their home folder
    monkeypatch.setenv("EFFLAB_TEACHER_PIN", "4711")
    monkeypatch.setattr(os, "execve", execve)
    main(["--port", "9999"])
    config = tomllib.loads((started["cwd"] / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["client"]["showErrorDetails"] == "none"
    assert config["server"]["fileWatcherType"] == "none" and config["runner"]["postScriptGC"] is False
    assert "4711" not in " ".join(started["argv"]) and started["environment"]["EFFLAB_TEACHER_PIN"] == "4711"
