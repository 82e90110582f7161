import subprocess
import sys
import time

from efficiency.runs.slots import device_slot, holder, lock_path

HOLD = """
import sys, time
from efficiency.runs.slots import device_slot
with device_slot("cpu", "run 99"):
    print("held", flush=True)
    time.sleep(float(sys.argv[1]))
"""


def test_a_second_run_waits_for_the_device(tmp_path):
    child = subprocess.Popen([sys.executable, "-c", HOLD, "2"], stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "held"
    waits = []
    start = time.perf_counter()
    with device_slot("cpu", "run 100", on_wait=waits.append) as got:
        waited = time.perf_counter() - start
        assert got
        assert holder("cpu").startswith("run 100")
    child.wait()
    assert waits and waits[0].startswith("run 99")
    assert waited > 1.0


def test_a_stop_while_waiting_gives_up(tmp_path):
    child = subprocess.Popen([sys.executable, "-c", HOLD, "5"], stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "held"
    try:
        with device_slot("cpu", "run 101", should_stop=lambda: True) as got:
            assert got is False
        assert holder("cpu").startswith("run 99"), "giving up must not wipe the holder's label"
    finally:
        child.kill()
        child.wait()


def test_the_lock_is_released_when_its_holder_is_killed():
    child = subprocess.Popen([sys.executable, "-c", HOLD, "60"], stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "held"
    child.kill()
    child.wait()
    with device_slot("cpu", "run 102") as got:
        assert got


def test_a_gpu_lock_names_the_physical_gpu_a_ray_job_was_given(monkeypatch):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    assert lock_path("cuda:0").name == "device-cuda-0.lock"
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2,3")
    assert lock_path("cuda:0").name == "device-cuda-2.lock"  # two jobs' cuda:0 are two GPUs: two locks
    assert lock_path("cuda:1").name == "device-cuda-3.lock"
    assert lock_path("cpu").name == "device-cpu.lock"
