"""Runs as Ray jobs: submitted only into a free slot, secrets kept off the command line, dead jobs interrupted.

The unit tests drive the scheduler with a fake job client and a fake cluster report; the last test
starts a real Ray head on this machine and dispatches tiny runs through it (skipped without ray).
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import psutil
import pytest

from efficiency import cli
from efficiency.errors import EfficiencyError
from efficiency.model_names import TFIDF
from efficiency.runs import ray_executor, serve
from efficiency.runs.executor import LocalProcessExecutor
from efficiency.runs.ray_executor import ClusterView, RayJobExecutor
from efficiency.runs.scheduler import LAUNCH_GRACE_S, Scheduler
from efficiency.store import RunStore
from efficiency.store_url import ENV_VAR
from tests.conftest import needs_shared_data, tiny_config

# On CI (`$CI` set) a missing Ray fails instead, as the PostgreSQL tests do: `make test` must have installed it.
needs_ray = pytest.mark.skipif(
    importlib.util.find_spec("ray") is None and not os.environ.get("CI"),
    reason="ray is not installed: `make test` installs it from requirements-class.txt",
)
SECRET_URL = "postgresql+psycopg://efflab:s3cret-pw@db.lab/efflab"


class FakeJobClient:
    """Ray's job client as the executor uses it: jobs kept in a dict, their status set by the test."""

    def __init__(self) -> None:
        self.jobs: dict[str, SimpleNamespace] = {}
        self.submitted: list[dict[str, Any]] = []
        self.stopped: list[str] = []

    def submit_job(self, **kwargs: Any) -> str:
        job_id = f"raysubmit_{len(self.jobs)}"
        self.submitted.append(kwargs)
        self.jobs[job_id] = SimpleNamespace(
            submission_id=job_id,
            status="PENDING",
            message="",
            metadata=kwargs["metadata"],
            start_time=time.time() * 1000,
            entrypoint_num_cpus=kwargs.get("entrypoint_num_cpus"),
            entrypoint_num_gpus=kwargs.get("entrypoint_num_gpus"),
        )
        return job_id

    def list_jobs(self) -> list[SimpleNamespace]:
        return list(self.jobs.values())

    def stop_job(self, job_id: str) -> bool:
        self.stopped.append(job_id)
        self.jobs[job_id].status = "STOPPED"
        return True

    def set(self, job_id: str, status: str, message: str = "") -> None:
        self.jobs[job_id].status, self.jobs[job_id].message = status, message


@pytest.fixture
def store(tmp_path: Path) -> Iterator[RunStore]:
    opened = RunStore(f"sqlite:///{tmp_path / 'runs.sqlite'}")
    yield opened
    opened.engine.dispose()


def executor_on(client: FakeJobClient, *nodes: dict[str, float], url: str = SECRET_URL) -> RayJobExecutor:
    gpus = sum(node.get("GPU", 0.0) for node in nodes)
    return RayJobExecutor(url, "http://ray-head:8265", client, cluster=lambda: ClusterView([*nodes], gpus))


def queue(store: RunStore, device: str = "cpu", model: str = "tiny") -> int:
    config = {"name": "r", "model": {"name": model}, "data": {"dataset": "d"}, "device": device}
    return store.create_run(config, device="cpu")  # the class server has no GPU: it resolves every run to cpu


def test_a_run_is_one_job_whose_store_password_stays_off_its_command_line(store):
    client = FakeJobClient()
    run_id = queue(store)
    assert Scheduler(store, executor_on(client, {"CPU": 4.0})).tick() == [run_id]
    [job] = client.submitted
    assert job["entrypoint"].endswith(f"-m efficiency.runs.worker {run_id} --device cpu")
    assert job["entrypoint_num_cpus"] == ray_executor.CPUS_PER_RUN and job["entrypoint_num_gpus"] is None
    assert job["runtime_env"]["env_vars"][ENV_VAR] == SECRET_URL
    assert "s3cret" not in job["entrypoint"] and "s3cret" not in str(job["metadata"])
    # Until its worker names itself, the run is this scheduler's reservation: reapers see this live process.
    record = store.get(run_id)
    assert record.status == "queued" and record.pid == os.getpid() and record.host == store.host


def test_runs_are_submitted_only_into_slots_the_cluster_has_free(store):
    client = FakeJobClient()
    runs = [queue(store) for _ in range(3)]
    scheduler = Scheduler(store, executor_on(client, {"CPU": 4.0}, {"CPU": 1.0}))
    assert scheduler.tick() == runs[:2]  # two runs of 2 CPUs on the first node; 1 CPU is no slot
    client.set("raysubmit_0", "RUNNING")
    # Ray's report lags: it still shows 4 CPUs free, but our own young jobs are counted against it.
    assert scheduler.tick() == []
    assert len(client.submitted) == 2


def test_a_gpu_is_asked_for_cuda_and_for_auto_when_the_cluster_has_one(store):
    client = FakeJobClient()
    auto, explicit, cpu, tfidf = (
        queue(store, "auto"),
        queue(store, "cuda:1"),
        queue(store),
        queue(store, "auto", TFIDF),
    )
    assert Scheduler(store, executor_on(client, {"GPU": 2.0, "CPU": 8.0})).tick() == [auto, explicit, cpu, tfidf]
    asked = {int(j["metadata"]["efficiency_run"]): j for j in client.submitted}
    for run_id in (auto, explicit):  # a job sees the one GPU Ray gave it as cuda:0
        assert asked[run_id]["entrypoint_num_gpus"] == 1.0 and asked[run_id]["entrypoint"].endswith("--device cuda:0")
    for run_id in (cpu, tfidf):
        assert asked[run_id]["entrypoint_num_gpus"] is None and asked[run_id]["entrypoint"].endswith("--device cpu")


def test_a_third_gpu_run_waits_in_the_queue_not_in_ray(store):
    client = FakeJobClient()
    runs = [queue(store, "cuda") for _ in range(3)]
    scheduler = Scheduler(store, executor_on(client, {"GPU": 2.0, "CPU": 8.0}))
    assert scheduler.tick() == runs[:2]
    assert scheduler.tick() == []
    assert store.get(runs[2]).pid is None  # still waiting in our queue, where the fair queue orders it


def test_a_job_that_died_before_or_after_its_worker_claimed_the_run_interrupts_it(store):
    client = FakeJobClient()
    early, late = queue(store), queue(store)
    scheduler = Scheduler(store, executor_on(client, {"CPU": 8.0}))
    assert scheduler.tick() == [early, late]
    assert store.claim(late, "cpu")  # its worker (this process stands in) started training
    client.set("raysubmit_0", "FAILED", "Job entrypoint command failed with exit code 1, last logs:\nTraceback ...")
    client.set("raysubmit_1", "FAILED", "The node running the job died.")
    scheduler.tick()
    first, second = store.get(early), store.get(late)
    assert first.status == second.status == "interrupted"
    assert "raysubmit_0" in first.error and "exit code 1" in first.error and "Traceback" not in first.error
    assert "ray job logs raysubmit_1" in second.error and "node running the job died" in second.error


def test_a_finished_run_keeps_its_status_when_its_job_ends(store):
    client = FakeJobClient()
    run_id = queue(store)
    scheduler = Scheduler(store, executor_on(client, {"CPU": 8.0}))
    scheduler.tick()
    assert store.claim(run_id, "cpu")
    store.finish(run_id, "finished", metrics={"accuracy": 0.5})
    client.set("raysubmit_0", "SUCCEEDED")
    scheduler.tick()
    assert store.get(run_id).status == "finished"


def test_a_stop_the_worker_ignores_ends_with_stop_job_on_any_host(store):
    client = FakeJobClient()
    run_id = queue(store)
    scheduler = Scheduler(store, executor_on(client, {"CPU": 8.0}), stop_grace_s=0.2)
    scheduler.tick()
    client.set("raysubmit_0", "RUNNING")
    assert store.claim(run_id, "cpu")  # claimed by this very process: a pid kill would end the test itself
    store.heartbeat(run_id, {"phase": "train", "step": 10})
    store.request_stop(run_id)
    scheduler.tick()
    store.heartbeat(run_id, {"phase": "train", "step": 20})
    time.sleep(0.3)
    scheduler.tick()
    assert client.stopped == ["raysubmit_0"]
    record = store.get(run_id)
    assert record.status == "stopped" and "after the stop request" in record.error


def test_a_reservation_is_beaten_for_and_a_job_ray_never_starts_is_stopped(store):
    client = FakeJobClient()
    run_id = queue(store)
    executor = executor_on(client, {"CPU": 8.0})
    scheduler = Scheduler(store, executor)
    scheduler.tick()
    before = store.get(run_id).heartbeat_at
    time.sleep(0.05)
    scheduler.tick()
    assert store.get(run_id).heartbeat_at > before  # other hosts see the launch alive by this beat
    executor.jobs[run_id].submitted_at -= LAUNCH_GRACE_S + 1
    scheduler.tick()
    assert client.stopped == ["raysubmit_0"]
    record = store.get(run_id)
    assert record.status == "interrupted" and "did not start" in record.error


def test_a_cancelled_runs_pending_job_is_stopped(store):
    client = FakeJobClient()
    run_id = queue(store)
    scheduler = Scheduler(store, executor_on(client, {"CPU": 8.0}))
    scheduler.tick()
    store.request_stop(run_id)
    scheduler.tick()
    assert client.stopped == ["raysubmit_0"]


def test_a_restarted_server_finds_its_runs_jobs_and_only_its_stores(store):
    client = FakeJobClient()
    run_id = queue(store)
    Scheduler(store, executor_on(client, {"CPU": 8.0}, url=store.url)).tick()
    client.submit_job(metadata={"efficiency_run": str(run_id), "efficiency_store": "sqlite:///another.sqlite"})
    client.set("raysubmit_0", "RUNNING")
    client.set("raysubmit_1", "FAILED")
    restarted = executor_on(client, {"CPU": 8.0}, url=store.url)
    assert restarted.watch(store, store.active()) is False  # another store's dead job is not this run's
    assert restarted.handle_of(store.get(run_id), store.host) == "raysubmit_0"
    assert store.get(run_id).status == "queued"


def test_a_jobs_worker_trains_on_the_device_ray_gave_it(store, monkeypatch):
    from efficiency.runs import worker

    run_id = store.create_run({**tiny_config().to_dict(), "device": "cuda:1"}, device="cpu")
    seen = {}

    def run_experiment(config: Any, **kwargs: Any) -> Any:
        seen["device"] = config.device
        return SimpleNamespace(status="finished")

    monkeypatch.setattr(worker, "run_experiment", run_experiment)
    monkeypatch.setenv(ENV_VAR, store.url)
    assert worker.main([str(run_id), "--device", "cuda:0"]) == 0
    assert seen["device"] == "cuda:0"  # its one GPU, whatever index the queueing machine named


def test_an_unreadable_cluster_report_starts_nothing_and_raises_nothing(store, caplog):
    client = FakeJobClient()
    queue(store)

    def unreachable() -> ClusterView:
        raise ConnectionError("head down")

    executor = RayJobExecutor(SECRET_URL, "http://ray-head:8265", client, cluster=unreachable)
    scheduler = Scheduler(store, executor)
    with caplog.at_level(logging.WARNING, logger=ray_executor.__name__):
        assert scheduler.tick() == [] and scheduler.tick() == []
    assert len(caplog.records) == 1, "an outage is logged once, not at every tick"


def test_the_cluster_report_is_read_node_by_node(monkeypatch):
    import requests

    usage = {"a": {"CPU": [2.0, 8.0], "GPU": [1.0, 2.0], "memory": [0, 9e9]}, "b": {"CPU": [0.0, 4.0]}}
    body = {"data": {"clusterStatus": {"loadMetricsReport": {"usageByNode": usage}}}}
    answer = SimpleNamespace(json=lambda: body, raise_for_status=lambda: None)
    sent = {}
    monkeypatch.setattr(requests, "get", lambda url, headers, timeout: sent.update(headers) or answer)
    monkeypatch.setattr(ray_executor, "ray_auth_headers", lambda: {"authorization": "Bearer t0ken"})
    view = ray_executor.cluster_view("http://ray-head:8265")
    assert view.free_by_node == [{"CPU": 6.0, "GPU": 1.0}, {"CPU": 4.0}] and view.gpus_total == 2.0
    assert sent == {"authorization": "Bearer t0ken"}, "a cluster with token authentication gets its token"


@needs_ray
def test_ray_s_token_header_is_sent_only_when_token_authentication_is_on(monkeypatch, tmp_path):
    from ray._private.authentication import authentication_utils

    monkeypatch.setattr(authentication_utils, "is_token_auth_enabled", lambda: False)
    assert ray_executor.ray_auth_headers() == {}


@needs_ray
def test_an_unreachable_ray_is_a_plain_message(store, capsys):
    with pytest.raises(EfficiencyError, match="ray start --head"):
        ray_executor.connect(f"http://127.0.0.1:{_free_port()}")
    argv = ["--store", store.url, "queue", "serve", "--executor", "ray", "--ray-address", "http://127.0.0.1:1"]
    handlers = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        assert cli.main(argv) == cli.EXIT_BAD_INPUT
    finally:  # `queue serve` takes Ctrl-C for itself: give it back to pytest
        for signum, handler in handlers.items():
            signal.signal(signum, handler)
    err = capsys.readouterr().err
    assert err.startswith("error: Cannot reach Ray's job API") and "Traceback" not in err


def test_the_apps_scheduler_is_local_unless_the_server_is_configured_for_ray(store, monkeypatch):
    monkeypatch.delenv(serve.EXECUTOR_ENV, raising=False)
    assert isinstance(serve.configured_scheduler(store).executor, LocalProcessExecutor)
    monkeypatch.setenv(serve.EXECUTOR_ENV, "slurm")
    with pytest.raises(EfficiencyError, match="set it to local"):
        serve.configured_scheduler(store)
    monkeypatch.setenv(serve.EXECUTOR_ENV, "ray")
    client = FakeJobClient()
    monkeypatch.setattr(ray_executor, "connect", lambda address: client)
    monkeypatch.setenv(ray_executor.ADDRESS_ENV, "http://ray-head:8265")
    executor = serve.configured_scheduler(store).executor
    assert isinstance(executor, RayJobExecutor) and executor.client is client
    assert executor.address == "http://ray-head:8265"
    assert executor.cpus_per_run == ray_executor.CPUS_PER_RUN
    monkeypatch.setenv(ray_executor.CPUS_ENV, "4")
    assert serve.configured_scheduler(store).executor.cpus_per_run == 4.0
    monkeypatch.setenv(ray_executor.CPUS_ENV, "all")
    with pytest.raises(EfficiencyError, match="a number above 0"):
        serve.configured_scheduler(store)


@needs_shared_data
def test_an_app_configured_for_an_unreachable_ray_says_so_in_words(monkeypatch):
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from efficiency import paths
    from efficiency.runs import scheduler

    monkeypatch.setenv(serve.EXECUTOR_ENV, "ray")
    monkeypatch.setenv(ray_executor.ADDRESS_ENV, f"http://127.0.0.1:{_free_port()}")
    st.cache_resource.clear()  # the scheduler is one per server: this test's server has its own
    try:
        at = AppTest.from_file(str(paths.REPO_ROOT / "app.py"), default_timeout=90).run()
    finally:
        st.cache_resource.clear()
        scheduler.close_all()
    assert not at.exception, at.exception
    shown = " ".join(e.value for e in at.error).replace("\\", "")  # escaped: shown as written, not as Markdown
    assert "Cannot reach Ray's job API" in shown or "Ray is not installed" in shown


# --- a real Ray head on this machine --------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _end_process_group(pgid: int) -> None:
    """End the head's processes by pid: its process group and their children (`ray stop` ends every Ray here)."""
    group = []
    for process in psutil.process_iter():
        with contextlib.suppress(psutil.Error, ProcessLookupError):
            if os.getpgid(process.pid) == pgid:
                group.append(process)
    everyone = set(group)
    for process in group:
        with contextlib.suppress(psutil.Error):
            everyone.update(process.children(recursive=True))  # Ray's workers and jobs have sessions of their own
    for process in everyone:
        with contextlib.suppress(psutil.Error):
            process.terminate()
    _gone, alive = psutil.wait_procs(list(everyone), timeout=5)
    for process in alive:
        with contextlib.suppress(psutil.Error):
            process.kill()


@pytest.fixture
def ray_head() -> Iterator[str]:
    """A Ray head with 3 CPUs on free ports, in a short temporary folder; ended even when the test fails."""
    temp = tempfile.mkdtemp(prefix="ray-", dir="/tmp")  # Ray's socket paths must stay under 107 characters
    dashboard = _free_port()
    command = [sys.executable, "-m", "ray.scripts.scripts", "start", "--head", "--num-cpus", "3",
               "--port", str(_free_port()), "--dashboard-port", str(dashboard), "--include-dashboard=true",
               "--dashboard-host", "127.0.0.1", "--ray-client-server-port", str(_free_port()),
               "--dashboard-agent-listen-port", str(_free_port()), "--temp-dir", temp,
               "--disable-usage-stats"]  # fmt: skip
    head = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    try:
        output, _ = head.communicate(timeout=90)
        if head.returncode != 0:
            pytest.fail(f"ray start failed:\n{output[-3000:]}")
        yield f"http://127.0.0.1:{dashboard}"
    finally:
        head.kill()
        _end_process_group(head.pid)  # start_new_session: the group's id is the starter's pid
        shutil.rmtree(temp, ignore_errors=True)


def _wait_until(condition: Any, timeout_s: float, what: str, client: Any, store: RunStore) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            runs = [(r.id, r.status, r.error) for r in store.list()]
            logs = {j.submission_id: client.get_job_logs(j.submission_id)[-1500:] for j in client.list_jobs()}
            pytest.fail(f"timed out waiting until {what}; runs {runs}; jobs' logs {logs}")
        time.sleep(0.5)


@needs_ray
@needs_shared_data
def test_tiny_runs_go_through_a_local_ray_head_and_one_is_stopped(ray_head, store):
    # Three jobs at once (3 CPUs, 1 each): their workers start together, then take the CPU's slot in turn.
    stopped = store.create_run(tiny_config(epochs=400).to_dict(), device="cpu")  # trains until stopped
    first, second = (store.create_run(tiny_config(epochs=1).to_dict(), device="cpu") for _ in range(2))
    client = ray_executor.connect(ray_head)
    server = subprocess.Popen(
        [sys.executable, "-m", "efficiency", "queue", "serve", "--executor", "ray", "--ray-address", ray_head],
        env={**os.environ, ENV_VAR: store.url, ray_executor.CPUS_ENV: "1"},
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_until(
            lambda: int((store.get(stopped).progress or {}).get("step", 0)) > 0, 150, "it trains", client, store
        )
        running = store.get(stopped)
        # Started by Ray, not by the scheduler: still a process of this host, so the store checks its pid.
        assert running.host == store.host and running.pid != server.pid and psutil.pid_exists(running.pid)
        store.request_stop(running.id)
        done = ("finished", "failed", "interrupted", "stopped")
        _wait_until(lambda: all(store.get(r).status in done for r in (first, second, stopped)), 150, "all ended",
                    client, store)  # fmt: skip
    finally:
        server.send_signal(signal.SIGTERM)
        _out, err = server.communicate(timeout=30)
    assert server.returncode == 0, err
    assert f"on the Ray cluster at {ray_head}" in err and "only Ray workers on this machine" in err
    for run_id in (first, second):
        record = store.get(run_id)
        assert record.status == "finished", record.error
        assert record.metrics["accuracy"] is not None
    assert store.get(stopped).status == "stopped"
    submitted = sorted(int(j.metadata["efficiency_run"]) for j in client.list_jobs())
    assert submitted == sorted((first, second, stopped))  # one job per run
