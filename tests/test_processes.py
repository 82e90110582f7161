import os
import subprocess
import sys

from efficiency import processes


def test_a_live_process_is_alive_only_with_its_own_start_time():
    me = os.getpid()
    since = processes.started_at(me)
    assert processes.alive(me) and processes.alive(me, since)
    assert not processes.alive(me, since - 3600), "a recycled pid (another start time) is not the same process"


def test_a_boot_time_read_a_second_apart_keeps_a_process_alive(monkeypatch):
    """psutil recomputes the boot time from the clock on each read: it may move by a whole second under load."""
    import psutil._pslinux as linux

    me = os.getpid()
    since = processes.started_at(me)
    boot_s = linux.boot_time()
    monkeypatch.setattr(linux, "boot_time", lambda: boot_s + 1.0)
    assert processes.alive(me, since)
    monkeypatch.setattr(linux, "boot_time", lambda: boot_s + 5.0)
    assert not processes.alive(me, since), "a start seconds apart is another process on a recycled pid"


def test_a_finished_process_and_no_pid_are_not_alive():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert not processes.alive(child.pid)
    assert not processes.alive(None)


def test_launch_module_runs_python_in_the_background_with_passive_threads(tmp_path):
    log = tmp_path / "child.log"
    pid = processes.launch_module("json.tool", ["--help"], log)
    os.waitpid(pid, 0)
    assert "json.tool" in log.read_text(encoding="utf-8")


def test_kill_says_whether_the_process_was_ours_to_end():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    assert processes.kill(child.pid)
    child.wait(timeout=10)
    assert processes.kill(child.pid), "a process that has ended needs no killing"
    assert not processes.kill(1) or os.getuid() == 0, "init belongs to root: not ours to end"
