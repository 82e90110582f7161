"""Runs on a Ray cluster: each queued run is one Ray job, submitted only when the cluster has a slot free for it.

The teacher starts Ray's head on the class server (`ray start --head`), joins each GPU machine to it
(`ray start --address=...`), and runs `python -m efficiency queue serve --executor ray`: the same
scheduler as on one machine, with this executor in place of local processes. Each job runs the same
worker (`python -m efficiency.runs.worker RUN_ID`) against the shared store, asking Ray for one GPU
(or `cpus_per_run` CPUs), and only when the cluster reports that much free: nothing waits inside Ray.

Liveness. The store's rule still holds: a worker on the scheduler's own host is checked by its pid and
start time (any process of this host, whoever started it), one on another host by its heartbeat. Ray
adds what the store cannot see: until the job's worker starts and names itself in the store, the
scheduler's reservation stands in for it and this executor beats for it; a job that ended (failed,
stopped, its machine lost) while its run was still active gets the run marked `interrupted` with
Ray's reason; a stop the worker ignores ends with `stop_job`, whichever machine the job is on.

The store's URL (and its password) reaches the job in its runtime environment, never on its command
line; Ray's job API shows a job's runtime environment to whoever reaches it, so the cluster must stay
on a private network (README, "Beyond one machine: Ray").
"""

from __future__ import annotations

import logging
import os
import shlex
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from efficiency import paths
from efficiency.errors import EfficiencyError
from efficiency.model_names import TFIDF
from efficiency.runs.scheduler import LAUNCH_GRACE_S
from efficiency.store import RunRecord, RunStore
from efficiency.store_url import ENV_VAR, masked

log = logging.getLogger(__name__)

ADDRESS_ENV = "RAY_ADDRESS"  # as Ray's own `ray job` commands read it
DEFAULT_ADDRESS = "http://127.0.0.1:8265"  # the job API (dashboard) of a head started on this machine
CPUS_PER_RUN = 2  # a run on CPUs asks Ray for this many cores (this lab's machine has 2); $EFFLAB_RAY_CPUS
CPUS_ENV = "EFFLAB_RAY_CPUS"
# The lab's settings a job takes from the scheduler's environment when they are set there (paths must then
# be the same on every machine: a shared models folder mounted at the same place, say).
PASSED_ON = ("EFFLAB_MODELS", "EFFLAB_UPLOADS", "EFFLAB_DATA_DIR", "EFFLAB_COUNTRY", "HF_HUB_OFFLINE")
LIVE = ("PENDING", "RUNNING")
ENDED = ("SUCCEEDED", "FAILED", "STOPPED")
# Ray's cluster report is refreshed every ~5 s: a job of ours younger than this may not be counted in it yet.
REPORT_LAG_S = 10.0
RUN_KEY, STORE_KEY = "efficiency_run", "efficiency_store"  # a job's metadata: which run of which store


class JobClient(Protocol):
    """The part of ray.job_submission.JobSubmissionClient used here (tests pass a fake)."""

    def submit_job(self, **kwargs: Any) -> str: ...
    def list_jobs(self) -> list[Any]: ...
    def stop_job(self, job_id: str) -> bool: ...


@dataclass
class ClusterView:
    """What the cluster has free now, node by node ({"GPU": 1.0, "CPU": 6.0}), as Ray last reported it."""

    free_by_node: list[dict[str, float]]
    gpus_total: float = 0.0


@dataclass(frozen=True)
class Need:
    """What one run asks of Ray, and the device its worker then uses there."""

    gpus: float = 0.0
    cpus: float = 0.0
    device: str | None = "cpu"  # None: the config's own device (mps, which no Ray node offers)

    def fits(self, node: dict[str, float]) -> bool:
        return node.get("GPU", 0.0) >= self.gpus and node.get("CPU", 0.0) >= self.cpus

    def take_from(self, nodes: list[dict[str, float]]) -> bool:
        """Take this need from the first node that has it free; False when none has."""
        for node in nodes:
            if self.fits(node):
                node["GPU"] = node.get("GPU", 0.0) - self.gpus
                node["CPU"] = node.get("CPU", 0.0) - self.cpus
                return True
        return False


@dataclass
class Job:
    submission_id: str
    run_id: int
    status: str
    need: Need
    submitted_at: float
    message: str = ""


def cpus_per_run() -> float:
    """How many CPUs a run on CPUs asks Ray for: $EFFLAB_RAY_CPUS, else CPUS_PER_RUN."""
    text = os.environ.get(CPUS_ENV, "").strip()
    try:
        value = float(text) if text else CPUS_PER_RUN
    except ValueError:
        value = 0.0
    if not value > 0:
        raise EfficiencyError(f"${CPUS_ENV} is {text!r}: give the CPUs a run asks Ray for, a number above 0 (e.g. 2).")
    return value


def address_of(flag: str | None) -> str:
    """The job API's address: --ray-address, else $RAY_ADDRESS, else a head on this machine."""
    return flag or os.environ.get(ADDRESS_ENV) or DEFAULT_ADDRESS


def connect(address: str) -> JobClient:
    """Ray's job client, or a message that says what to start or install."""
    try:
        from ray.job_submission import JobSubmissionClient
    except ImportError:
        raise EfficiencyError(
            "Ray is not installed: `make class` installs it (or `.venv/bin/pip install -r requirements-class.txt`)."
        ) from None
    try:
        return JobSubmissionClient(address)
    except Exception as exc:  # ConnectionError, or a RuntimeError from Ray's version check
        raise EfficiencyError(
            f"Cannot reach Ray's job API at {address} ({type(exc).__name__}). Start Ray's head on this server "
            "(`ray start --head`) and pass its dashboard address: --ray-address or $RAY_ADDRESS, "
            f"e.g. {DEFAULT_ADDRESS}."
        ) from None


def ray_auth_headers() -> dict[str, str]:
    """The token header a cluster with token authentication (RAY_AUTH_MODE=token) asks for; none otherwise.

    The job client sends it by itself; this plain request must too, or every cluster report is refused (401).
    Ray exposes it only from a private module: without it, no header (a cluster without tokens needs none).
    """
    try:
        from ray._private.authentication.http_token_authentication import get_auth_headers_if_auth_enabled
    except ImportError:
        return {}
    return dict(get_auth_headers_if_auth_enabled({}) or {})


def cluster_view(address: str, timeout_s: float = 5.0) -> ClusterView:
    """The free resources of each node, from the dashboard's cluster status (what `ray status` prints).

    Ray's public job API has no resource query; this endpoint is the one the dashboard itself reads.
    Right after the head starts it has no report yet: no node, so no slot, until the next one.
    """
    import requests

    response = requests.get(f"{address.rstrip('/')}/api/cluster_status", headers=ray_auth_headers(), timeout=timeout_s)
    response.raise_for_status()
    report = (((response.json().get("data") or {}).get("clusterStatus") or {}).get("loadMetricsReport")) or {}
    nodes, gpus = [], 0.0
    for usage in (report.get("usageByNode") or {}).values():  # resource -> [used, total]
        free = {name: float(total) - float(used) for name, (used, total) in usage.items() if name in ("CPU", "GPU")}
        gpus += float(usage.get("GPU", (0.0, 0.0))[1])
        nodes.append(free)
    return ClusterView(nodes, gpus)


def _status(job: Any) -> str:
    status = getattr(job, "status", "")
    return str(getattr(status, "value", status))


def _first_line(message: str | None, limit: int = 300) -> str:
    """Ray's reason in one short line (its full message carries the job's last log lines: `ray job logs` has them)."""
    line = (message or "").strip().splitlines()[0] if (message or "").strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


@dataclass
class ClusterRoom:
    """The cluster's free slots this tick: a run takes one GPU, or `cpus_per_run` CPUs, on one node."""

    executor: RayJobExecutor
    free_by_node: list[dict[str, float]]
    has_gpus: bool

    def take(self, record: RunRecord) -> bool:
        need = self.executor.need_of(record, self.has_gpus)
        if not need.take_from(self.free_by_node):
            return False
        self.executor.placed[record.id] = need
        return True


@dataclass(eq=False)
class RayJobExecutor:
    """Each run one Ray job: start submits it, kill stops it, watch ends the runs of jobs that died."""

    store_url: str
    address: str
    client: JobClient
    cpus_per_run: float = CPUS_PER_RUN
    cluster: Callable[[], ClusterView] | None = None  # the cluster's free resources (tests pass a fake)
    python: str = sys.executable  # the same install path on every machine (README)
    repo: str = str(paths.REPO_ROOT)
    jobs: dict[int, Job] = field(default_factory=dict)  # run id -> its latest job
    placed: dict[int, Need] = field(default_factory=dict)  # run id -> the slot the room gave it this tick
    failing: set[str] = field(default_factory=set)  # Ray's reads failing now: each said once per outage

    def _reached(self, failure: Exception | None, what: str) -> None:
        """Log an outage of one of Ray's reads once when it starts and once when it ends, not at every tick."""
        if failure is not None and what not in self.failing:
            log.warning("Ray's %s at %s could not be read (%s): no run starts until it can", what, self.address,
                        type(failure).__name__)  # fmt: skip
            self.failing.add(what)
        elif failure is None and what in self.failing:
            log.warning("Ray's %s at %s can be read again", what, self.address)
            self.failing.discard(what)

    @classmethod
    def connect(cls, store_url: str, address: str | None = None, **options: Any) -> RayJobExecutor:
        where = address_of(address)
        options.setdefault("cpus_per_run", cpus_per_run())
        return cls(store_url, where, connect(where), **options)

    @property
    def tag(self) -> str:
        """This store, as the jobs' metadata names it (its URL without the password)."""
        return masked(self.store_url)

    # --- what a run asks for ------------------------------------------------------------------
    def need_of(self, record: RunRecord, cluster_has_gpus: bool) -> Need:
        """A GPU for cuda, and for auto when the cluster has one; CPUs for cpu, TF-IDF and mps."""
        device = str(record.config.get("device", "auto"))
        if record.model == TFIDF or device in ("cpu", "mps") or (device == "auto" and not cluster_has_gpus):
            return Need(cpus=self.cpus_per_run, device=None if device == "mps" else "cpu")
        return Need(gpus=1.0, device="cuda:0")  # Ray shows a job its own GPU as cuda:0

    # --- the executor's interface -------------------------------------------------------------
    def start(self, run_id: int) -> str:
        need = self.placed.pop(run_id, None) or Need(cpus=self.cpus_per_run)
        command = [self.python, "-m", "efficiency.runs.worker", str(run_id)]
        if need.device is not None:
            command += ["--device", need.device]
        env = {name: os.environ[name] for name in PASSED_ON if name in os.environ}
        submission_id = self.client.submit_job(
            entrypoint=f"cd {shlex.quote(self.repo)} && exec {shlex.join(command)}",
            runtime_env={"env_vars": {**env, ENV_VAR: self.store_url, "PYTHONUNBUFFERED": "1"}},
            metadata={RUN_KEY: str(run_id), STORE_KEY: self.tag},
            entrypoint_num_gpus=need.gpus or None,
            entrypoint_num_cpus=need.cpus or None,
        )
        self.jobs[run_id] = Job(submission_id, run_id, "PENDING", need, time.time())
        log.info("run %s: Ray job %s submitted (%s)", run_id, submission_id, need)
        return submission_id

    def alive(self, handle: int | str) -> bool:
        job = next((j for j in self.jobs.values() if j.submission_id == handle), None)
        return job is not None and job.status in LIVE

    def kill(self, handle: int | str) -> bool:
        """`ray job stop`: SIGTERM to the worker (its stop flag), SIGKILL a few seconds later."""
        try:
            self.client.stop_job(str(handle))
        except Exception as exc:  # the job API is unreachable: the next tick tries again
            log.warning("Ray job %s could not be stopped: %s", handle, type(exc).__name__)
            return False
        return True

    def room(
        self, here: str, running: list[RunRecord], queued: list[RunRecord], launching: dict[int, str]
    ) -> ClusterRoom:
        """The cluster's free slots, less our jobs that its last report may not count yet."""
        self.placed.clear()  # slots given last tick to runs another scheduler then reserved
        try:
            view = (self.cluster or (lambda: cluster_view(self.address)))()
        except Exception as exc:  # the head is down or restarting: nothing starts this tick
            self._reached(exc, "cluster status")
            return ClusterRoom(self, [], False)
        self._reached(None, "cluster status")
        free = [dict(node) for node in view.free_by_node]
        now = time.time()
        for job in self.jobs.values():
            if job.status == "PENDING" or (job.status == "RUNNING" and now - job.submitted_at < REPORT_LAG_S):
                job.need.take_from(free)
        return ClusterRoom(self, free, view.gpus_total > 0)

    def handle_of(self, record: RunRecord, here: str) -> str | None:
        """The run's live Ray job, on whichever machine it runs; runs started outside Ray are left alone."""
        job = self.jobs.get(record.id)
        return job.submission_id if job is not None and job.status in LIVE else None

    def watch(self, store: RunStore, active: list[RunRecord]) -> bool:
        """Jobs as Ray sees them: a dead job's run interrupted, a reservation beaten for, a stray job stopped."""
        self._refresh()
        by_id = {r.id: r for r in active}
        now, ended = time.time(), False
        for run_id, job in self.jobs.items():
            record = by_id.get(run_id)
            if job.status in ENDED:
                # A run no process names (pid None) was given back to the queue: that job is not its worker.
                if record is not None and (record.status == "running" or record.pid is not None):
                    ended |= store.interrupt_if_active(run_id, died_message(job))
            elif record is None:
                if job.status == "PENDING":  # its run was cancelled or deleted before Ray started it
                    self.kill(job.submission_id)
            elif record.status == "queued" and record.host == store.host and record.pid == os.getpid():
                # The job's worker has not named itself yet: this scheduler's reservation stands in for it.
                if job.status == "PENDING" and now - job.submitted_at > LAUNCH_GRACE_S:
                    self.kill(job.submission_id)
                    ended |= store.interrupt_if_active(run_id, pending_message(job))
                else:
                    store.beat_waiting(run_id)
        return ended

    def _refresh(self) -> None:
        """Every job of this store that Ray knows (so a restarted server still finds its runs' jobs)."""
        try:
            listed = self.client.list_jobs()
        except Exception as exc:
            self._reached(exc, "job list")
            return
        self._reached(None, "job list")
        latest: dict[int, Job] = {}
        for info in listed:
            metadata = getattr(info, "metadata", None) or {}
            if metadata.get(STORE_KEY) != self.tag or not str(metadata.get(RUN_KEY, "")).isdigit():
                continue
            run_id = int(metadata[RUN_KEY])
            known = self.jobs.get(run_id)
            submitted_at = (getattr(info, "start_time", None) or 0) / 1000 or time.time()
            need = Need(
                gpus=float(getattr(info, "entrypoint_num_gpus", None) or 0.0),
                cpus=float(getattr(info, "entrypoint_num_cpus", None) or 0.0),
            )
            if known is not None and known.submission_id == info.submission_id:
                submitted_at, need = known.submitted_at, known.need  # our own clock, for our own jobs
            job = Job(info.submission_id, run_id, _status(info), need, submitted_at, getattr(info, "message", "") or "")
            if run_id not in latest or job.submitted_at >= latest[run_id].submitted_at:
                latest[run_id] = job
        for run_id, job in self.jobs.items():  # submitted a moment ago and not listed yet
            latest.setdefault(run_id, job)
        self.jobs = latest


def died_message(job: Job) -> str:
    reason = _first_line(job.message)
    return (
        f"The Ray job that ran this run ({job.submission_id}) ended ({job.status}) without finishing it"
        f"{': ' + reason if reason else ''}. `ray job logs {job.submission_id}` on the server shows its output. "
        "The progress recorded until then is kept; start the run again to get its results."
    )


def pending_message(job: Job) -> str:
    return (
        f"Ray did not start this run's job ({job.submission_id}) within {LAUNCH_GRACE_S:.0f} s, though the cluster "
        "had a free slot for it when it was submitted (another user's job, or a machine that left the cluster?). "
        "The job was stopped; start the run again."
    )
