"""A store's password never reaches a command line, a message or a log."""

from __future__ import annotations

import subprocess

import pytest

from efficiency import cli, processes
from efficiency.errors import EfficiencyError
from efficiency.runs.executor import LocalProcessExecutor
from efficiency.store import RunStore
from efficiency.store_url import ENV_VAR, has_password, masked, scrub

URL = "postgresql+psycopg2://lab:s3cr%40t@db.example:5432/lab"


@pytest.mark.parametrize(
    "url, shown",
    [
        (URL, "postgresql+psycopg2://lab:***@db.example:5432/lab"),
        ("postgresql://lab:pw@db.example:notaport/lab", "postgresql://lab:***@db.example:notaport/lab"),
        ("sqlite:////tmp/runs.sqlite", "sqlite:////tmp/runs.sqlite"),
    ],
)
def test_passwords_are_masked_even_in_a_url_with_a_typo(url, shown):
    assert masked(url) == shown


def test_scrub_masks_the_url_and_the_password_in_either_spelling():
    text = f"could not connect to {URL}; password 's3cr@t' refused (s3cr%40t)"
    assert "s3cr" not in scrub(text, URL) and "lab:***@db.example" in scrub(text, URL)
    assert has_password(URL) and not has_password("sqlite:///x") and not has_password(None)


def test_a_bad_store_url_is_refused_in_words_without_its_password():
    with pytest.raises(EfficiencyError) as raised:
        RunStore("postgresql://lab:hunter2@db.example:notaport/lab")
    assert "hunter2" not in str(raised.value) and "lab:***@" in str(raised.value)
    assert "hunter2" not in repr(RunStore())


def test_workers_get_the_store_url_in_their_environment_not_their_command_line(monkeypatch):
    started = {}

    class Started:
        pid = 4321

    def popen(args, **kwargs):
        started.update(args=args, env=kwargs["env"])
        return Started()

    monkeypatch.setattr(subprocess, "Popen", popen)
    monkeypatch.setattr(processes, "started_at", lambda pid: 0.0)
    LocalProcessExecutor(URL).start(12)
    assert started["args"][-3:] == ["-m", "efficiency.runs.worker", "12"]
    assert not any("s3cr" in arg or "postgresql" in arg for arg in started["args"])
    assert started["env"][ENV_VAR] == URL


def test_the_worker_reads_its_store_from_the_environment(monkeypatch, tmp_path, capsys):
    from efficiency.runs import worker

    url = f"sqlite:///{tmp_path / 'elsewhere.sqlite'}"
    monkeypatch.setenv(ENV_VAR, url)
    assert worker.main(["5"]) == 2 and "no run 5" in capsys.readouterr().err
    assert (tmp_path / "elsewhere.sqlite").is_file()


def test_a_password_on_the_cli_command_line_is_warned_about(tmp_path, capsys):
    assert cli.main(["--store", "postgresql://lab:hunter2@db.example:notaport/lab", "runs", "list"]) == 2
    err = capsys.readouterr().err
    assert f"set ${ENV_VAR} instead" in err and "hunter2" not in err
