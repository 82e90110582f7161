"""The 'machine was busy' figure sees another process's CPU time and not this one's."""

import subprocess
import sys
import time

from efficiency.measure.busy import OtherLoad

SPIN = "import time\nend = time.time() + 1.5\nwhile time.time() < end: pass"


def test_another_process_spinning_shows_up():
    with OtherLoad() as load:
        subprocess.run([sys.executable, "-c", SPIN], check=True)
    # One core of the machine's cores busy for most of the window, but it is our child: counted as our own.
    own_child = load.share
    with OtherLoad() as load:
        spinner = subprocess.Popen([sys.executable, "-c", SPIN], start_new_session=True)
        time.sleep(1.6)
    spinner.wait()
    assert load.share > own_child
    assert load.share >= 0.5 / load.cores  # at least half a core of the window went to the other process
