"""How busy the machine was with other programs while a run trained: the caveat on its timings.

Two snapshots of the CPU counters, no sampling: the machine's busy CPU time (all cores) minus this
process's own CPU time, over the wall time times the number of cores. On a 2-core laptop a browser
watching the run or a second program can double a run's wall time; this figure says when that happened.
"""

from __future__ import annotations

import time

import psutil

METHOD = (
    "psutil CPU counters before and after: machine busy time (all cores, idle and iowait excluded) minus this "
    "process's own CPU time, over wall time x {cores} cores"
)
BUSY_SHARE = 0.15  # above this share of the machine, the card warns that timings are inflated


class OtherLoad:
    """Context manager: `share` is the fraction of the machine's CPU other processes used meanwhile."""

    def __init__(self) -> None:
        self.cores = psutil.cpu_count() or 1
        self.share: float | None = None

    def __enter__(self) -> OtherLoad:
        self._process = psutil.Process()
        self._start = (time.perf_counter(), _machine_busy_s(), _own_s(self._process))
        return self

    def __exit__(self, *exc: object) -> None:
        wall0, machine0, own0 = self._start
        wall = time.perf_counter() - wall0
        if wall <= 0:
            return
        other = (_machine_busy_s() - machine0) - (_own_s(self._process) - own0)
        self.share = min(1.0, max(0.0, other / (wall * self.cores)))

    @property
    def method(self) -> str:
        return METHOD.format(cores=self.cores)


def _machine_busy_s() -> float:
    times = psutil.cpu_times()
    idle = times.idle + getattr(times, "iowait", 0.0)
    return sum(times) - idle - getattr(times, "guest", 0.0) - getattr(times, "guest_nice", 0.0)


def _own_s(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system + times.children_user + times.children_system
