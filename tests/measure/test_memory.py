import numpy as np

from efficiency.measure.memory import PeakMemory


def test_a_restart_forgets_the_peak_of_the_work_before_it():
    with PeakMemory() as memory:
        held = np.ones(50_000_000)  # 400 MB, returned to the system when freed (a mapping of its own)
        memory._take()
        before = memory.peak_rss_bytes
        del held
        memory.restart()
        assert memory.peak_rss_bytes < before - 300 * 2**20
