import subprocess
import sys
import time

from efficiency.runs.slots import device_slot, holder

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
