"""The class under load: N students in headless Chromium use a class server for M minutes while runs train.

Each session (its own browser context, so its own owner token) does what a student does, in a loop: open the
home page, open Experiment, switch a technique on and off, queue a tiny run (the `tiny` model, 1 epoch; a new
one once their last has ended), watch it live, open Compare. The server is `make class`'s entry point on a
fresh app-data folder, with the run store on SQLite or on a throwaway PostgreSQL (tests/postgres.py).

Prints, per store: actions timed (p50/p95, after a warm-up in which each session visits home, Compare and
Experiment and queues its first run), errors (exceptions shown, error boxes: any store error reaching a page;
the server's log names a redacted exception),
dropped connections (a page's websocket closing without a navigation of ours), the server's memory after
warm-up and at the end, runs queued, finished and lost (missing, failed or interrupted), and the CPU
seconds used by the server side (the app's server and its workers) and by the browsers during the timed
phase (psutil over both process trees, sampled every second).
Targets (issue 14): 0 errors, 0 runs lost, p95 action under 2 s, server memory growth under 10% after warm-up.

    python benchmarks/bench_class.py --sessions 10 --minutes 10 [--json] [--store sqlite|postgresql|both]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import re
import secrets
import signal
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from efficiency.appserver import serving

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"]
TINY = "Tiny BERT: 2 layers, random init (seconds; for a quick look)"
# A technique switched on, then off (not mixed precision: on a CPU without bf16 its check rightly shows an error).
TOGGLES = ["Quantization", "Pruning", "Data filtering"]
TARGETS = {"errors": 0, "runs_lost": 0, "p95_action_s": 2.0, "server_rss_growth_pct": 10.0}
ENDED_WELL = ("finished",)
STILL_ACTIVE = ("queued", "running")
RUN_VIEW = re.compile(r"Queued: position \d+|step \d+ of \d+|Starting: loading|Accuracy")
# What a page shows when something went wrong: an exception, or an error box naming the store or its database
# (other error boxes say what a student should change, e.g. a setting this device cannot run: those are not errors).
SHOWN_ERRORS = """() => [
  ...[...document.querySelectorAll('[data-testid="stException"]')].map(e => e.innerText.slice(0, 300)),
  ...[...document.querySelectorAll('[data-testid="stAlertContentError"]')].map(e => e.innerText.slice(0, 300))
     .filter(t => /run store|database|sqlite|postgres|psycopg|sqlalchemy|operationalerror|locked/i.test(t))]"""
SCRIPT_IDLE = "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
# A page is on screen once its last part is: a visit is timed to there, not to the script's end, since the
# panels that refresh themselves every few seconds (the queue, a live run) keep a script running on a busy machine.
PAGE_BUILT: dict[str, Callable[[Any], Any]] = {
    "Experiment": lambda page: page.get_by_role("button", name="Train", exact=True),
    "Compare": lambda page: page.locator("[data-testid='stDataFrame'], [data-testid='stAlertContentInfo']"),  # or none
}


# --- process trees: memory and CPU -----------------------------------------------------------------------------
def server_process(port: int) -> psutil.Process:
    """The app's server: the child of this process that listens on `port` (class_server execs into it)."""
    for child in psutil.Process().children(recursive=True):
        try:
            command = child.cmdline()
        except psutil.Error:
            continue
        if any(a == "--server.port" and b == str(port) for a, b in itertools.pairwise(command)):
            return child
    raise RuntimeError(f"no server process on port {port} among this process's children")


def browser_processes() -> list[psutil.Process]:
    """Chromium's processes (browser, renderers, GPU and utility) under this process, through Playwright's driver."""
    found = []
    for child in psutil.Process().children(recursive=True):
        try:
            if "chrom" in child.name().lower():
                found.append(child)
        except psutil.Error:
            continue
    return found


class CpuMeter:
    """CPU seconds (user + system) of changing process sets, sampled every second by a background thread.

    Each process counts from its first sample (or from the meter's start for those already there), up to its
    last: a worker that ends between two samples loses at most a second.
    """

    def __init__(self, groups: dict[str, Callable[[], list[psutil.Process]]], every_s: float = 1.0) -> None:
        self.groups, self.every_s = groups, every_s
        self.first: dict[str, dict[tuple[int, float], float]] = {name: {} for name in groups}
        self.last: dict[str, dict[tuple[int, float], float]] = {name: {} for name in groups}
        self.started = False
        self.halt = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def sample(self) -> None:
        for name, find in self.groups.items():
            for process in find():
                try:
                    with process.oneshot():
                        key, used = (process.pid, process.create_time()), sum(process.cpu_times()[:2])
                except psutil.Error:
                    continue
                # A process already running at the start counts from there; a later one from zero.
                self.first[name].setdefault(key, used if not self.started else 0.0)
                self.last[name][key] = used

    def _loop(self) -> None:
        while not self.halt.wait(self.every_s):
            self.sample()

    def start(self) -> CpuMeter:
        self.sample()
        self.started = True
        self.thread.start()
        return self

    def stop(self) -> dict[str, float]:
        self.halt.set()
        self.thread.join()
        self.sample()
        return {
            name: round(sum(used - self.first[name][key] for key, used in self.last[name].items()), 1)
            for name in self.groups
        }


def tree(root: psutil.Process) -> list[psutil.Process]:
    try:
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


def rss_mb(process: psutil.Process) -> float:
    return round(process.memory_info().rss / 2**20, 1)


# --- one student ------------------------------------------------------------------------------------------------
@dataclass
class Student:
    index: int
    url: str
    think_s: float
    timeout_ms: float
    page: Any = None
    token: str = ""
    first_run: int | None = None
    runs: list[int] = field(default_factory=list)
    timings_s: list[tuple[str, float]] = field(default_factory=list)
    warm_up_s: list[tuple[str, float]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    failed_actions: list[str] = field(default_factory=list)
    dropped_connections: int = 0
    navigating: bool = False
    rng: random.Random = field(default_factory=random.Random)

    def address(self, path: str, **params: object) -> str:
        query = "&".join(f"{k}={v}" for k, v in {**params, "me": self.token}.items())
        return f"{self.url}/{path}?{query}"

    async def open(self, browser: Any) -> None:
        context = await browser.new_context(viewport={"width": 1400, "height": 1000})
        context.set_default_timeout(self.timeout_ms)
        self.page = await context.new_page()
        self.page.on("websocket", self._watch_socket)
        self.rng.seed(self.index)

    def _watch_socket(self, socket: Any) -> None:
        def closed(_: Any) -> None:
            if not self.navigating and not self.page.is_closed():
                self.dropped_connections += 1

        socket.on("close", closed)

    async def act(self, name: str, step: Callable[[], Coroutine[Any, Any, None]], timed: bool = True) -> bool:
        """One action: timed from its first input to the page settled; what the page then shows as an error counts."""
        started = time.perf_counter()
        try:
            await step()
            done = True
        except Exception as exc:  # a timeout or a lost page: the action failed, the student carries on
            self.failed_actions.append(f"{name}: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
            say(f"session {self.index}: {self.failed_actions[-1]}")
            done = False
        finally:
            self.navigating = False
        (self.timings_s if timed else self.warm_up_s).append((name.split(" ")[0], time.perf_counter() - started))
        try:
            self.errors += [f"{name}: {text}" for text in set(await self.page.evaluate(SHOWN_ERRORS))]
        except Exception as exc:
            self.failed_actions.append(f"{name} (reading errors): {type(exc).__name__}")
        return done

    async def think(self) -> None:
        await asyncio.sleep(self.think_s * self.rng.uniform(0.5, 1.5))

    async def settle(self) -> None:
        """Until the script run ends (Streamlit shows its status widget while a run goes on)."""
        await self.page.wait_for_function(SCRIPT_IDLE, polling=50)

    async def go(self, address: str) -> None:
        self.navigating = True  # the old page's websocket closes: ours, not a drop
        await self.page.goto(address)

    # the actions
    async def home(self) -> None:
        await self.go(self.address("") if self.token else self.url)
        await self.page.get_by_role("button", name="Run the one-minute demo").wait_for()
        if not self.token:  # the class server gives each browser an owner token in its address
            await self.page.wait_for_url(re.compile(r"[?&]me="))
            self.token = re.search(r"[?&]me=([^&]+)", self.page.url).group(1)

    async def sidebar(self, title: str) -> None:
        await self.page.get_by_role("link", name=title, exact=True).first.click()
        await self.page.get_by_role("heading", name=title, exact=True).wait_for()
        await PAGE_BUILT[title](self.page).first.wait_for()

    async def switch(self, label: str) -> None:
        await self.page.get_by_text(label, exact=True).first.click()
        await self.page.wait_for_timeout(30)  # the rerun starts a few ms after the click
        await self.settle()

    async def choose_tiny(self) -> None:
        await self.page.get_by_role("combobox", name="Model").click()
        await self.page.get_by_role("option", name=TINY, exact=True).click()
        await self.settle()
        await self.page.get_by_text("Advanced: training, data and measurement settings").click()
        epochs = self.page.get_by_role("spinbutton", name="epochs", exact=True)
        await epochs.fill("1")
        await epochs.press("Enter")
        await self.settle()

    async def train(self) -> None:
        """Press Train (the page holds a tiny config) and see the run's own view."""
        button = self.page.get_by_role("button", name="Train", exact=True)
        await button.wait_for()
        await self.page.wait_for_function(
            "() => [...document.querySelectorAll('button')].some(b => b.innerText.trim() === 'Train' && !b.disabled)"
        )
        await button.click()
        await self.page.wait_for_url(re.compile(r"[?&]run=\d+"))
        run_id = int(re.search(r"[?&]run=(\d+)", self.page.url).group(1))
        self.runs.append(run_id)
        await self.see_run(run_id)

    async def again(self) -> None:
        """A new run from the first one's settings (the page's 'from' link: change one thing, run again)."""
        await self.go(self.address("experiment", **{"from": self.first_run}))
        await self.page.get_by_role("heading", name="Experiment", exact=True).wait_for()
        await self.train()

    async def see_run(self, run_id: int) -> None:
        await self.page.get_by_text(re.compile(rf"Run {run_id}: ")).first.wait_for()
        await self.page.get_by_text(RUN_VIEW).first.wait_for()

    async def watch(self, run_id: int) -> None:
        await self.go(self.address("experiment", run=run_id))
        await self.see_run(run_id)

    # the sessions' phases
    async def warm_up(self) -> None:
        """Every page once, and the first tiny run queued from the Experiment page's own widgets.

        A cold server's first visits are slow while a whole class arrives at once: they get 5 times as long.
        """
        self.page.set_default_timeout(self.timeout_ms * 5)
        await self.act("home", self.home, timed=False)
        for title in ("Compare", "Experiment"):
            await self.act(title, partial(self.sidebar, title), timed=False)
        await self.act("choose the tiny model", self.choose_tiny, timed=False)
        await self.settle()  # the epochs' rerun over: Train then queues a 1-epoch run
        await self.act("train", self.train, timed=False)
        self.first_run = self.runs[0] if self.runs else None  # its settings are every later run's
        self.page.set_default_timeout(self.timeout_ms)

    async def attend(self, deadline: float, active: Callable[[int], bool]) -> None:
        """What a student does, in a loop, until the lesson ends (checked before each action)."""
        for lap in itertools.count():
            label = TOGGLES[(self.index + lap) % len(TOGGLES)]
            steps = [
                ("home", self.home),
                ("experiment", partial(self.sidebar, "Experiment")),
                (f"switch {label} on", partial(self.switch, label)),
                (f"switch {label} off", partial(self.switch, label)),  # the runs stay plain tiny runs
                ("run", partial(self.queue_or_watch, active)),
                ("compare", partial(self.sidebar, "Compare")),
            ]
            for name, step in steps:
                if time.monotonic() >= deadline:
                    return
                await self.act(name, step)
                await self.think()

    async def queue_or_watch(self, active: Callable[[int], bool]) -> None:
        """A new run once the last one has ended, else watch the one still queued or training."""
        mine = self.runs[-1] if self.runs else None
        if mine is not None and active(mine):
            await self.watch(mine)
        elif self.first_run is not None:
            await self.again()


# --- one class --------------------------------------------------------------------------------------------------
def say(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


def percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return round(values[0], 3)
    return round(statistics.quantiles(values, n=100, method="inclusive")[int(share * 100) - 1], 3)


async def lesson(
    url: str, server: psutil.Process, database: Database, args: argparse.Namespace, store: Any
) -> dict[str, Any]:
    from playwright.async_api import async_playwright

    def active(run_id: int) -> bool:
        record = store.get(run_id)
        return record is not None and record.status in STILL_ACTIVE

    students = [Student(i, url, args.think_s, args.action_timeout_s * 1000) for i in range(args.sessions)]
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        for student in students:
            await student.open(browser)
        say(f"warming up {len(students)} sessions")
        await asyncio.gather(*(s.warm_up() for s in students))
        say(f"warm: timing {args.minutes} min")
        rss_start = rss_mb(server)
        meter = CpuMeter(
            {"server": lambda: tree(server), "database": database.processes, "browsers": browser_processes}
        ).start()
        deadline = time.monotonic() + args.minutes * 60
        started = time.monotonic()
        rss_by_minute = [rss_start]

        async def watch_memory() -> None:  # a leak climbs minute by minute; a warming cache levels off
            while (left_s := deadline - time.monotonic()) > 1:
                await asyncio.sleep(min(60.0, left_s))
                rss_by_minute.append(rss_mb(server))

        await asyncio.gather(watch_memory(), *(s.attend(deadline, active) for s in students))
        timed_s = time.monotonic() - started
        cpu_s = meter.stop()
        rss_end = rss_mb(server)
        await browser.close()
    timings = [t for s in students for _, t in s.timings_s]
    by_action: dict[str, list[float]] = {}
    for name, seconds in (pair for s in students for pair in s.timings_s):
        by_action.setdefault(name, []).append(seconds)
    warm_up: dict[str, list[float]] = {}
    for name, seconds in (pair for s in students for pair in s.warm_up_s):
        warm_up.setdefault(name, []).append(seconds)
    errors = [e for s in students for e in s.errors]
    failed = [f for s in students for f in s.failed_actions]
    return {
        "sessions": args.sessions,
        "minutes": args.minutes,
        "timed_s": round(timed_s, 1),
        "actions": len(timings),
        "failed_actions": len(failed),
        "errors": len(errors),
        "dropped_connections": sum(s.dropped_connections for s in students),
        "p50_action_s": percentile(timings, 0.50),
        "p95_action_s": percentile(timings, 0.95),
        "p50_by_action_s": {name: percentile(values, 0.50) for name, values in sorted(by_action.items())},
        "p50_warm_up_s": {name: percentile(values, 0.50) for name, values in warm_up.items()},  # first visits
        "server_rss_mb_start": rss_start,
        "server_rss_mb_end": rss_end,
        "server_rss_mb_by_minute": rss_by_minute,
        "server_cpu_s": cpu_s["server"],
        "database_cpu_s": cpu_s["database"],  # PostgreSQL's own processes (SQLite works inside the server's)
        "browsers_cpu_s": cpu_s["browsers"],
        "run_ids": sorted(r for s in students for r in s.runs),
        "error_samples": sorted(set(errors))[:10],
        "failed_action_samples": sorted(set(failed))[:10],
    }


def settle_runs(store: Any, run_ids: list[int], drain_s: float) -> dict[str, Any]:
    """Wait up to `drain_s` for the class's runs to end, then count them; runs lost: missing, failed or interrupted."""
    deadline = time.monotonic() + drain_s
    while True:
        records = {r: store.get(r) for r in run_ids}
        pending = [r for r, record in records.items() if record is not None and record.status in STILL_ACTIVE]
        if not pending or time.monotonic() >= deadline:
            break
        time.sleep(2)
    lost = [r for r, record in records.items() if record is None or record.status not in (*ENDED_WELL, *STILL_ACTIVE)]
    return {
        "runs_queued": len(run_ids),
        "runs_finished": sum(1 for record in records.values() if record is not None and record.status in ENDED_WELL),
        "runs_lost": len(lost),
        "runs_unfinished": len(pending),  # still queued or training when the bench ended: stopped then, not lost
        "runs_in_store": len(store.list()),
        "lost_samples": [f"run {r}: {records[r].status if records[r] else 'missing'}" for r in lost][:10],
    }


# A browser that navigated away while the server still wrote to its websocket: Streamlit logs it, no page shows it.
BROWSER_LEFT = re.compile(r"WebSocketDisconnected|WebSocketClosedError|StreamClosedError")


def server_exceptions(log: Path) -> list[str]:
    """The last line of each traceback in the server's log (what a redacted exception on a page was); not a left page."""
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines() if log.exists() else []
    found, inside = [], False
    for line in lines:
        if line.startswith("Traceback (most recent call last)"):
            inside = True
        elif inside and line and not line.startswith((" ", "\t")):
            if not BROWSER_LEFT.search(line):
                found.append(line[:300])  # the exception's type and message
            inside = False
    return found


def stop_leftovers(store: Any, server: psutil.Process, wait_s: float = 3) -> None:
    """Cancel what is still queued, stop what trains, and end any worker still there: nothing outlives the bench.

    Measuring is over: a worker that has not ended within `wait_s` is killed (its folder goes with the bench).
    """
    for record in store.active():
        store.request_stop(record.id)
    workers = tree(server)[1:]
    _, alive = psutil.wait_procs(workers, timeout=wait_s)
    for process in alive:  # workers this bench's server started
        with suppress(psutil.Error):
            process.kill()


@dataclass
class Database:
    url: str
    processes: Callable[[], list[psutil.Process]] = list  # the database server's own, when it has its own


@contextmanager
def fresh_database(kind: str, home: Path) -> Iterator[Database]:
    """A fresh run store: a SQLite file in the class's folder, or a throwaway PostgreSQL server (tests/postgres.py)."""
    if kind == "sqlite":  # SQLite runs inside the app's server and its workers: no process of its own
        yield Database(f"sqlite:///{home / 'runs.sqlite'}")
        return
    from tests import postgres  # the tests' throwaway server: initdb in a temporary folder, on 127.0.0.1

    server = postgres.start()

    def postgres_processes() -> list[psutil.Process]:
        try:  # the postmaster's pid is the first line of its pid file; the backends are its children
            pid = int((server.folder / "data" / "postmaster.pid").read_text().split()[0])
            return tree(psutil.Process(pid))
        except (OSError, ValueError, IndexError, psutil.Error):
            return []

    try:
        yield Database(server.fresh_store_url(), postgres_processes)
    finally:
        server.stop()


def one_class(kind: str, args: argparse.Namespace, url: str | None = None) -> dict[str, Any]:
    """One class on a fresh server and store (`url`: a given empty store instead of a fresh one)."""
    with tempfile.TemporaryDirectory(prefix="efflab-class-") as folder:
        home = Path(folder)
        if url is not None:
            return teach(kind, Database(url), home, args)
        with fresh_database(kind, home) as database:
            return teach(kind, database, home, args)


def teach(kind: str, database: Database, home: Path, args: argparse.Namespace) -> dict[str, Any]:
    from efficiency.appserver import free_port
    from efficiency.store import RunStore

    load_before = os.getloadavg()
    env = {
        "EFFLAB_HOME": str(home),
        "EFFLAB_CACHE": str(home / "cache"),
        "EFFLAB_STORE": database.url,
        "EFFLAB_TEACHER_PIN": secrets.token_hex(8),  # the class server refuses to start without one
        "EFFLAB_AUTO_CALIBRATE": "0",  # the students' runs only: no background calibration
        "HF_HUB_OFFLINE": "1",
    }
    port = free_port()
    say(f"starting the class server on {kind}")
    log = home / "server.log"
    with serving(env=env, port=port, as_class=True, log=log) as address:
        store = RunStore(database.url)
        server = server_process(port)
        try:
            result = asyncio.run(lesson(address, server, database, args, store))
            say(f"timed phase over; runs may finish for {args.drain_s:.0f} s")
            result.update(settle_runs(store, result.pop("run_ids"), args.drain_s))
        finally:
            stop_leftovers(store, server)
            store.engine.dispose()
    exceptions = server_exceptions(log)
    growth = (result["server_rss_mb_end"] / result["server_rss_mb_start"] - 1) * 100
    result.update(
        store=kind,
        server_exceptions=len(exceptions),
        server_exception_samples=sorted(set(exceptions))[:10],
        server_rss_growth_pct=round(growth, 1),
        load_average_before=[round(x, 2) for x in load_before],
        load_average_after=[round(x, 2) for x in os.getloadavg()],
        cpu_count=os.cpu_count(),
    )
    return result


def report(result: dict[str, Any]) -> str:
    p95 = result["p95_action_s"]
    lines = [
        f"{result['store']}: {result['sessions']} sessions for {result['minutes']} min "
        f"(load average {result['load_average_before'][0]} before, {result['cpu_count']} cores)",
        f"  actions {result['actions']} ({result['failed_actions']} failed), errors {result['errors']} "
        f"(target {TARGETS['errors']}), dropped connections {result['dropped_connections']}",
        f"  action p50 {result['p50_action_s']} s, p95 {p95} s (target under {TARGETS['p95_action_s']} s); p50 by "
        f"action: {', '.join(f'{k} {v} s' for k, v in result['p50_by_action_s'].items())}",
        f"  server memory {result['server_rss_mb_start']} MiB after warm-up, {result['server_rss_mb_end']} MiB at "
        f"the end: {result['server_rss_growth_pct']:+.1f}% (target under {TARGETS['server_rss_growth_pct']}%); "
        f"by minute: {', '.join(map(str, result['server_rss_mb_by_minute']))}",
        f"  runs queued {result['runs_queued']}, finished {result['runs_finished']}, lost {result['runs_lost']} "
        f"(target {TARGETS['runs_lost']}), unfinished at the end {result['runs_unfinished']}",
        f"  CPU seconds while timed: server and workers {result['server_cpu_s']}, database {result['database_cpu_s']}, "
        f"browsers {result['browsers_cpu_s']}",
    ]
    lines += [f"  error: {e}" for e in result["error_samples"]]
    lines += [f"  server exception: {e}" for e in result["server_exception_samples"]]
    lines += [f"  failed: {f}" for f in result["failed_action_samples"]]
    return "\n".join(lines)


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10, help="students, each a browser context")
    parser.add_argument("--minutes", type=float, default=10, help="the timed phase, after the warm-up")
    parser.add_argument("--store", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--json", action="store_true", help="one JSON object (per store when both)")
    parser.add_argument("--think-s", type=float, default=1.0, help="a student's pause between actions (±50%%)")
    parser.add_argument("--drain-s", type=float, default=120, help="wait this long at the end for runs to finish")
    parser.add_argument("--action-timeout-s", type=float, default=60, help="an action slower than this failed")
    args = parser.parse_args(argv)
    if args.sessions < 1 or args.minutes <= 0:
        parser.error("--sessions must be at least 1 and --minutes above 0")
    if not Path(CHROMIUM).exists():
        parser.error(f"Debian's Chromium is not at {CHROMIUM}: `make test` installs it (apt-get install chromium)")
    return args


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse(argv)
    kinds = ["sqlite", "postgresql"] if args.store == "both" else [args.store]
    from tests.postgres import Unavailable

    # SIGTERM ends the bench as Ctrl-C would: the server, its workers and the throwaway folders go with it.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    results = {}
    for kind in kinds:
        try:
            results[kind] = one_class(kind, args)
            say(f"done:\n{report(results[kind])}")  # a long bench keeps what one store measured
        except Unavailable as exc:  # no PostgreSQL server programs here: say so, and what to install
            results[kind] = {"store": kind, "skipped": f"{exc} (Debian: apt-get install postgresql)"}
    return results if len(kinds) > 1 else results[kinds[0]]


if __name__ == "__main__":
    outcome = main()
    if "--json" in sys.argv:
        print(json.dumps(outcome))
    else:
        for one in outcome.values() if "store" not in outcome else [outcome]:
            print(f"{one['store']}: skipped: {one['skipped']}" if "skipped" in one else report(one))
