"""Kill drill: SIGKILL the worker at random moments and count what the run store lost.

Each victim is a short tiny-model run, queued in a fresh store and started as the app's scheduler
starts it: a worker process with the store's URL in its environment. The drill kills its worker process (SIGKILL: no clean-up of any kind)
at a random moment of one phase, the phases taken in turn: set-up (imports, data, model), training,
evaluation (test and latency) and the final write. For the final write the worker holds the
result's transaction open for a moment before it commits, so a kill lands inside it. Then it counts:

- finished runs lost or changed (must be 0): every run that had finished (a reference run, and
  victims the kill came too late for) is compared, row for row, before and after;
- victims not marked `interrupted` within 30 s (must be 0), by the store's liveness rule;
- SQLite's `PRAGMA integrity_check` (must be "ok"); on PostgreSQL, a count of every table's rows
  (the server, not the killed client, keeps its files whole).

    python benchmarks/drill_kill.py                 # 20 kills, 1 reference run, 3 stored runs: the counts
    python benchmarks/drill_kill.py --kills 5 --reference-runs 0 --json
    EFFLAB_STORE=postgresql+psycopg://... python benchmarks/drill_kill.py --store-from-env   # an empty PostgreSQL store
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, ClassVar

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PHASES = ("set-up", "training", "evaluation", "final write")
FINAL_HOLD_S = 0.3  # the worker holds its final transaction open this long before it commits
# How long after a phase's marker a kill may land (s): within the phase on this machine's tiny runs.
SET_UP_GUESS_S = 3.0  # until a run has shown how long its set-up takes here
KILL_WINDOW_S = {"training": 0.8, "evaluation": 0.3, "final write": FINAL_HOLD_S}
INTERRUPTED_WITHIN_S = 30.0
RUN_TIMEOUT_S = 300.0  # a victim that never reaches its phase (a broken install) ends the drill


# --- the worker, with phase markers (runs in the child) ----------------------------------------
def child(run_id: int, markers: Path) -> int:
    """The real worker, writing a line to `markers` as each phase begins; its final write is held open."""
    from contextlib import contextmanager

    def mark(phase: str) -> None:
        with open(markers, "a", encoding="utf-8") as handle:
            handle.write(f"{phase} {time.time()}\n")

    mark("set-up")
    from efficiency.runs import finetune, worker
    from efficiency.store import RunStore

    def marked(phase: str, function: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            mark(phase)
            return function(*args, **kwargs)

        return wrapper

    finetune.fit = marked("training", finetune.fit)
    finetune.measure = marked("evaluation", finetune.measure)
    holding = {"on": False}
    plain_write, plain_finish = RunStore._write, RunStore.finish

    @contextmanager
    def held_write(self: RunStore) -> Any:
        with plain_write(self) as conn:
            yield conn
            if holding["on"]:
                time.sleep(FINAL_HOLD_S)  # the statements ran; the commit waits: a kill now lands mid-transaction

    def finish(self: RunStore, run_id: int, status: str, *args: Any, **kwargs: Any) -> None:
        holding["on"] = status in ("finished", "stopped")
        if holding["on"]:
            mark("final write")
        try:
            plain_finish(self, run_id, status, *args, **kwargs)
        finally:
            holding["on"] = False

    RunStore._write = held_write  # type: ignore[method-assign]
    RunStore.finish = finish  # type: ignore[method-assign]
    return worker.main([str(run_id)])


# --- the drill (runs in the parent) --------------------------------------------------------------
class DrillExecutor:
    """The scheduler's executor, launching the marked worker; its store URL in the environment as usual."""

    launched: ClassVar[list[subprocess.Popen[bytes]]] = []

    def __init__(self, store_url: str, folder: Path) -> None:
        self.store_url, self.folder = store_url, folder
        self.procs: dict[int, subprocess.Popen[bytes]] = {}
        self.by_run: dict[int, tuple[int, Path]] = {}

    def start(self, run_id: int) -> int:
        markers = self.folder / f"markers-{run_id}.txt"
        log = open(self.folder / f"run-{run_id}.log", "ab")  # noqa: SIM115 (the child owns it until it ends)
        proc = subprocess.Popen(
            [sys.executable, __file__, "--child", str(run_id), "--markers", str(markers)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "EFFLAB_STORE": self.store_url, "OMP_WAIT_POLICY": "PASSIVE"},
        )
        log.close()
        self.procs[proc.pid] = proc
        DrillExecutor.launched.append(proc)
        self.by_run[run_id] = (proc.pid, markers)
        return proc.pid

    def alive(self, pid: int) -> bool:
        return self.procs[pid].poll() is None

    def kill(self, pid: int) -> bool:
        self.procs[pid].send_signal(signal.SIGKILL)
        return True


def tiny_config(seed: int) -> dict[str, Any]:
    from efficiency.config import DataConfig, MeasureConfig, ModelConfig, RunConfig, TrainConfig

    return RunConfig(
        name=f"drill {seed}",
        model=ModelConfig(name="tiny"),
        data=DataConfig(dataset="nusax-senti/javanese", limit_train=64),
        train=TrainConfig(epochs=1, batch_size=16),
        # Energy and FLOPs never touch the store: off, so the victims stay short.
        measure=MeasureConfig(energy=False, flops=False, latency_repeats=1),
        seed=seed,
        device="cpu",
    ).to_dict()


def phases_seen(markers: Path) -> dict[str, float]:
    try:
        lines = markers.read_text(encoding="utf-8").splitlines()
    except OSError:
        return {}
    return {phase: float(t) for phase, _, t in (line.rpartition(" ") for line in lines if line)}


def snapshot(store: Any, run_ids: set[int]) -> dict[int, dict[str, Any]]:
    """Every column of the given runs, as stored."""
    from sqlalchemy import select

    from efficiency.store_schema import runs

    with store.engine.connect() as conn:
        rows = conn.execute(select(runs).where(runs.c.id.in_(run_ids))).mappings().all()
    return {row["id"]: dict(row) for row in rows}


class Victims:
    """Queued runs started as the scheduler starts them (executor.start, then mark_waiting).

    The next victim may be started ahead: it loads its libraries while the current one runs and
    then waits for the device, which only one run holds at a time.
    """

    def __init__(self, store: Any, executor: DrillExecutor) -> None:
        self.store, self.executor = store, executor

    def start(self, seed: int) -> tuple[int, subprocess.Popen[bytes], Path]:
        run_id = self.store.create_run(tiny_config(seed), device="cpu")
        pid = self.executor.start(run_id)
        self.store.mark_waiting(run_id, pid)
        return run_id, self.executor.procs[pid], self.executor.by_run[run_id][1]


def wait_for(phase: str, proc: subprocess.Popen[bytes], markers: Path, run_id: int) -> None:
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while phase not in phases_seen(markers) and proc.poll() is None:
        if time.monotonic() > deadline:
            raise RuntimeError(f"run {run_id} never reached its {phase}")
        time.sleep(0.01)


def wait_until_claimed(store: Any, run_id: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while store.get(run_id).status == "queued" and proc.poll() is None:
        if time.monotonic() > deadline:
            raise RuntimeError(f"run {run_id} never got its device")
        time.sleep(0.05)


def drill(
    kills: int, reference_runs: int, stored_runs: int, seed: int, home: Path, store_url: str | None = None
) -> dict[str, Any]:
    """`store_url`: an empty store to drill (PostgreSQL, say); by default a fresh SQLite file in `home`."""
    os.environ["EFFLAB_HOME"] = str(home)
    os.environ.pop("EFFLAB_STORE", None)
    from efficiency.store import RunStore

    store = RunStore(store_url or f"sqlite:///{home / 'runs.sqlite'}")
    victims_of = Victims(store, DrillExecutor(store.url, home))
    rng = random.Random(seed)
    finished: set[int] = set()
    set_up_s: list[float] = []  # how long set-up lasts here (start to training): a set-up kill's window

    for i in range(stored_runs):  # finished runs that must survive every kill unchanged: written directly,
        run_id = store.create_run(tiny_config(2000 + i), device="cpu")
        curves = {"train": [{"step": s, "loss": 1.0 / s} for s in range(1, 5)], "valid": []}
        store.finish(run_id, "finished", metrics={"accuracy": 0.5 + i / 100}, curves=curves, environment={"i": i})
        finished.add(run_id)
    for i in range(reference_runs):  # and trained by a worker
        run_id, proc, markers = victims_of.start(seed=1000 + i)
        proc.wait(timeout=RUN_TIMEOUT_S)
        if store.get(run_id).status != "finished":
            raise RuntimeError(f"reference run {run_id} did not finish: see {home / f'run-{run_id}.log'}")
        finished.add(run_id)
        seen = phases_seen(markers)
        set_up_s.append(seen["training"] - seen["set-up"])
    before = snapshot(store, finished)

    order = [PHASES[i % len(PHASES)] for i in range(kills)]
    rng.shuffle(order)
    victims: list[dict[str, Any]] = []
    ahead = None
    for k, phase in enumerate(order):
        fresh = ahead is None  # started now, not ahead: its set-up is not stretched by waiting for the device
        run_id, proc, markers = ahead or victims_of.start(seed=k)
        ahead = None
        if phase != "set-up" and k + 1 < kills and order[k + 1] != "set-up":  # a set-up victim starts fresh
            wait_until_claimed(store, run_id, proc)  # the device is then this run's: the next one waits for it
            ahead = victims_of.start(seed=k + 1)
        wait_for(phase, proc, markers, run_id)
        # The shortest set-up seen: the first process of all is slowed by cold caches.
        window_s = min(set_up_s or [SET_UP_GUESS_S]) if phase == "set-up" else KILL_WINDOW_S[phase]
        time.sleep(rng.uniform(0.0, window_s))
        ended_by_itself = proc.poll() is not None
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        seen = phases_seen(markers)
        landed = max(seen, key=seen.__getitem__) if seen else "set-up"
        if fresh and "training" in seen:
            set_up_s.append(seen["training"] - seen["set-up"])
        status, waited_s = store.get(run_id).status, 0.0
        if status == "finished":  # the kill came after the result was committed: it must now stay as it is
            finished.add(run_id)
            before |= snapshot(store, {run_id})
        else:
            started = time.monotonic()
            while status != "interrupted" and time.monotonic() - started < INTERRUPTED_WITHIN_S:
                time.sleep(0.1)
                status = store.get(run_id).status
            waited_s = time.monotonic() - started
        victims.append({"run_id": run_id, "target": phase, "landed": landed, "ended_by_itself": ended_by_itself,
                        "status": status, "interrupted_after_s": round(waited_s, 2)})  # fmt: skip
        print(f"kill {k + 1}/{kills}: run {run_id} in {landed} (aimed at {phase}) -> {status}", file=sys.stderr)

    after = snapshot(store, finished)
    changed = [run_id for run_id, row in before.items() if after.get(run_id) != row]
    integrity = integrity_check(store)
    killed = [v for v in victims if v["status"] != "finished"]
    return {
        "kills": kills,
        "kills_by_phase": {p: sum(v["landed"] == p for v in victims) for p in PHASES},
        "finished_runs_checked": len(finished),
        "finished_runs_lost_or_changed": len(changed),
        "victims_not_interrupted_within_30s": sum(v["status"] != "interrupted" for v in killed),
        "killed_after_their_result_was_stored": len(victims) - len(killed),
        "victims_that_ended_before_the_kill": sum(v["ended_by_itself"] for v in victims),
        "slowest_interrupted_s": max((v["interrupted_after_s"] for v in killed), default=0.0),
        "integrity_check": integrity,
        "victims": victims,
    }


def integrity_check(store: Any) -> str:
    """SQLite's own check; on a server, every row of every table read back ("ok" when all can be)."""
    from sqlalchemy import func, select

    from efficiency.store_schema import metadata

    with store.engine.connect() as conn:
        if store.is_sqlite:
            return str(conn.exec_driver_sql("PRAGMA integrity_check").scalar())
        for table in metadata.sorted_tables:
            conn.execute(select(func.count()).select_from(table)).scalar()
            conn.execute(select(table)).all()
    return "ok"


def end_workers() -> None:
    """A drill cut short leaves no worker behind."""
    for proc in DrillExecutor.launched:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def main(argv: list[str] | None = None) -> dict[str, Any] | int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--reference-runs", type=int, default=1, help="finished runs made first, to be protected")
    parser.add_argument("--stored-runs", type=int, default=3, help="finished runs written directly, to be protected")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    parser.add_argument("--store-from-env", action="store_true",
                        help="drill the empty store named by $EFFLAB_STORE (its password stays off the command line)")  # fmt: skip
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--markers", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        return child(args.child, args.markers)
    previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that `finally` ends the workers
    try:
        store_url = os.environ.get("EFFLAB_STORE") if args.store_from_env else None
        with tempfile.TemporaryDirectory(prefix="drill-kill-") as home:
            try:
                result = drill(args.kills, args.reference_runs, args.stored_runs, args.seed, Path(home), store_url)
            finally:
                end_workers()
    finally:
        signal.signal(signal.SIGTERM, previous)
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            if key != "victims":
                print(f"{key}: {value}")
    return result


if __name__ == "__main__":
    outcome = main()
    sys.exit(outcome if isinstance(outcome, int) else 0)
