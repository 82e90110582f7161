import os
import subprocess
import sys

from efficiency.runs import processes


def test_a_live_process_is_alive_only_with_its_own_start_time():
    me = os.getpid()
    since = processes.started_at(me)
    assert processes.alive(me) and processes.alive(me, since)
    assert not processes.alive(me, since - 3600), "a recycled pid (another start time) is not the same process"


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
