"""The run store: one row per run, its progress rows, and the liveness rules. SQLAlchemy Core.

SQLite by default (one file in the user's application-data folder), or any SQLAlchemy URL
(`--store`, $EFFLAB_STORE), so a PostgreSQL server can serve a class. The store is also the
queue and the state for background runs: pages and the CLI only insert and read rows.

Every write is a short transaction. On SQLite: WAL mode (readers never wait for the writer),
a busy timeout, and writes begin IMMEDIATE, since a read that turns into a write inside a
deferred transaction fails at once instead of waiting. A run whose process died is marked
`interrupted` by whoever reads it next; a run whose process is alive is never touched.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import socket
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any

from sqlalchemy import (
    Connection,
    create_engine,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import SQLAlchemyError

from efficiency import paths, processes, unsaved
from efficiency.errors import DataError, EfficiencyError
from efficiency.finite import dumps, record_non_finite
from efficiency.owners import Actor
from efficiency.store_schema import (
    BUSY_TIMEOUT_MS,
    add_missing_columns,
    create_tables,
    default_url,
    progress,
    runs,
    settings,
    sqlite_pragmas,
    uploads,
)
from efficiency.store_url import masked, reason

STATUSES = ("queued", "running", "finished", "failed", "stopped", "interrupted")
ACTIVE = ("queued", "running")
STALE_AFTER_S = 30.0  # a heartbeat older than this, from another host, means the run is gone
SETTINGS_LOCK_KEY = 0x45464C53  # "EFLS": PostgreSQL's advisory lock while a first machine seeds the settings


@dataclass
class RunRecord:
    id: int
    name: str
    note: str
    status: str
    model: str
    dataset: str
    device: str
    created_at: float
    started_at: float | None
    finished_at: float | None
    heartbeat_at: float | None
    host: str | None
    pid: int | None
    pid_started_at: float | None
    stop_requested: bool
    config: dict[str, Any]
    metrics: dict[str, Any] | None = None
    curves: dict[str, Any] | None = None
    environment: dict[str, Any] | None = None
    progress: dict[str, Any] | None = None
    error: str | None = None
    traceback: str | None = None
    model_path: str | None = None
    estimate: dict[str, Any] | None = None
    request: str | None = None  # shared by runs queued as one request (a lesson)
    owner: str | None = None  # the SHA-256 of the owner's token on a class server (efficiency.owners), never the token
    owner_name: str | None = None  # the name the owner typed, shown beside the run
    queue_order: float | None = None  # where the teacher put it in its device's queue (None: the fair order)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def techniques(self) -> list[str]:
        return [t["name"] for t in self.config.get("techniques", [])]

    @property
    def seed(self) -> int:
        return int(self.config.get("seed", 0))

    def summary(self) -> dict[str, Any]:
        """A flat row for tables and `runs list`."""
        metrics = self.metrics or {}
        return {
            "run_id": self.id,
            "name": self.name,
            "owner_name": self.owner_name,
            "status": self.status,
            "model": self.model,
            "dataset": self.dataset,
            "device": self.device,
            "created_at": self.created_at,
            "accuracy": metrics.get("accuracy"),
            "macro_f1": metrics.get("macro_f1"),
            "train_wall_s": metrics.get("train_wall_s"),
            "energy_kwh": metrics.get("energy_kwh"),
            "error": self.error,
        }


class RunStore:
    """All reads and writes of runs. Safe to use from several processes at once."""

    def __init__(self, url: str | None = None) -> None:
        self.url = url or default_url()
        if self.url.startswith("sqlite:///"):
            db_path = self.url.removeprefix("sqlite:///")
            if db_path and db_path != ":memory:":
                os.makedirs(os.path.dirname(os.path.abspath(db_path)), exist_ok=True)
        try:
            self.engine = create_engine(
                self.url,
                connect_args={"timeout": BUSY_TIMEOUT_MS / 1000} if self.is_sqlite else {},
                json_serializer=dumps,  # NaN and infinity become null on every backend
            )
            if self.is_sqlite:
                sqlite_pragmas(self.engine)
            create_tables(self.engine)
            add_missing_columns(self.engine)
        except (SQLAlchemyError, ValueError) as exc:  # the URL (and its password) must not reach a message whole
            raise EfficiencyError(
                f"Cannot open the run store {masked(self.url)}: {reason(exc, self.url)}. Check the URL (--store or "
                "$EFFLAB_STORE), that its database server is running, and that the folder is writable."
            ) from None
        self.host = socket.gethostname()

    def __repr__(self) -> str:
        return f"RunStore({masked(self.url)!r})"

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with self.engine.connect().execution_options(write=True) as conn, conn.begin():
            yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn

    # --- writes ----------------------------------------------------------------------------
    def create_run(
        self,
        config: dict[str, Any],
        status: str = "queued",
        device: str | None = None,
        estimate: dict[str, Any] | None = None,
        request: str | None = None,
        owner: Actor | None = None,
        quota: int | None = None,
    ) -> int:
        """Insert a run; `device` is the resolved device ('cpu', 'cuda:0') the queue orders it on.

        Runs queued together (a lesson's) share `request`, so a quota can count them as one request.
        `owner` (a class server's student or teacher) is stored as its token's hash and its name.
        `quota`: the most queued requests an owner may have (a lesson's runs count once); one more is refused.
        """
        with self._write() as conn:
            if quota is not None and owner is not None and owner.owner is not None:
                self._check_quota(conn, owner.owner, request, quota)
            result = conn.execute(
                insert(runs).values(
                    name=config.get("name", ""),
                    note=config.get("note", ""),
                    status=status,
                    model=config.get("model", {}).get("name", ""),
                    dataset=config.get("data", {}).get("dataset", ""),
                    device=device or config.get("device", ""),
                    created_at=time.time(),
                    stop_requested=False,
                    config=config,
                    estimate=estimate,
                    request=request,
                    owner=owner.owner if owner else None,
                    owner_name=(owner.name or None) if owner else None,
                )
            )
            return int(result.inserted_primary_key[0])

    def _check_quota(self, conn: Connection, owner: str, request: str | None, quota: int) -> None:
        """Refuse a run that would give `owner` more than `quota` queued requests (inside the insert's transaction)."""
        if not self.is_sqlite:  # SQLite's IMMEDIATE transaction already lets one writer in; PostgreSQL needs a lock
            conn.execute(select(func.pg_advisory_xact_lock(int(owner[:15], 16))))
        queued = (
            conn.execute(select(runs.c.request).where(runs.c.owner == owner, runs.c.status == "queued")).scalars().all()
        )
        requests = {r for r in queued if r is not None}
        if request is not None and request in requests:
            return  # one more run of a request already queued: it counts once
        waiting = len(requests) + sum(r is None for r in queued)
        if waiting >= quota:
            raise EfficiencyError(
                f"You already have {waiting} request(s) waiting in the queue, the most the teacher allows "
                f"({quota}; a lesson's runs count as one). Wait until one starts, or cancel one, then queue this again."
            )

    def update_config(self, run_id: int, config: dict[str, Any]) -> None:
        """Store the resolved config (defaults filled in), so the stored config reproduces the run."""
        with self._write() as conn:
            conn.execute(update(runs).where(runs.c.id == run_id).values(config=config))

    def claim(self, run_id: int, device: str, pid: int | None = None) -> bool:
        """queued -> running, only if still queued: two processes never start the same run."""
        pid = pid or os.getpid()
        now = time.time()
        with self._write() as conn:
            result = conn.execute(
                update(runs)
                .where(runs.c.id == run_id, runs.c.status == "queued")
                .values(
                    status="running",
                    device=device,
                    started_at=now,
                    heartbeat_at=now,
                    host=self.host,
                    pid=pid,
                    pid_started_at=processes.started_at(pid),
                )
            )
            return result.rowcount == 1

    def reserve(self, run_id: int) -> bool:
        """A scheduler takes a queued run to launch it, only if no process has it yet: one launch per run.

        Several app servers and queue servers sharing one store each try; the conditional update lets one
        win. The row then names this process (so a scheduler that dies here is reaped) until `mark_waiting`
        names the worker it launched.
        """
        pid = os.getpid()
        with self._write() as conn:
            result = conn.execute(
                update(runs)
                .where(runs.c.id == run_id, runs.c.status == "queued", runs.c.pid.is_(None))
                .values(host=self.host, pid=pid, pid_started_at=processes.started_at(pid), heartbeat_at=time.time())
            )
            return result.rowcount == 1

    def release(self, run_id: int) -> None:
        """Undo `reserve` when the launch failed, so the run waits for the next try instead of a dead launcher."""
        with self._write() as conn:
            conn.execute(
                update(runs)
                .where(runs.c.id == run_id, runs.c.status == "queued")
                .values(host=None, pid=None, pid_started_at=None, heartbeat_at=None)
            )

    def beat_waiting(self, run_id: int) -> None:
        """A queued run's waiter (or the scheduler launching it) is alive: hosts that cannot see its pid go by this."""
        with self._write() as conn:
            conn.execute(
                update(runs).where(runs.c.id == run_id, runs.c.status == "queued").values(heartbeat_at=time.time())
            )

    def mark_waiting(self, run_id: int, pid: int | None = None) -> None:
        """Record which process waits for the device for this queued run (for the liveness check)."""
        pid = pid or os.getpid()
        with self._write() as conn:
            conn.execute(
                update(runs)
                .where(runs.c.id == run_id, runs.c.status == "queued")
                .values(host=self.host, pid=pid, pid_started_at=processes.started_at(pid), heartbeat_at=time.time())
            )

    def heartbeat(self, run_id: int, latest: dict[str, Any] | None = None) -> bool:
        """Mark the run alive, append its latest progress; returns whether a stop was requested."""
        now = time.time()
        with self._write() as conn:
            values: dict[str, Any] = {"heartbeat_at": now}
            if latest is not None:
                values["progress"] = latest
                conn.execute(insert(progress).values(run_id=run_id, t=now, data=latest))
            conn.execute(update(runs).where(runs.c.id == run_id).values(**values))
            return bool(conn.execute(select(runs.c.stop_requested).where(runs.c.id == run_id)).scalar())

    def stop_requested(self, run_id: int) -> bool:
        """Whether a stop was requested: a read, which works when writes fail (a full disk, a locked file)."""
        with self._read() as conn:
            return bool(conn.execute(select(runs.c.stop_requested).where(runs.c.id == run_id)).scalar())

    def set_environment(self, run_id: int, environment: dict[str, Any]) -> None:
        with self._write() as conn:
            conn.execute(update(runs).where(runs.c.id == run_id).values(environment=environment))

    def finish(
        self,
        run_id: int,
        status: str,
        metrics: dict[str, Any] | None = None,
        curves: dict[str, Any] | None = None,
        error: str | None = None,
        traceback: str | None = None,
        model_path: str | None = None,
        environment: dict[str, Any] | None = None,
    ) -> None:
        """The final status and result in one transaction; NaN and infinity are noted in the metrics, stored null."""
        if status not in STATUSES or status in ACTIVE:
            raise ValueError(f"finish() takes a final status, not {status!r}")
        values: dict[str, Any] = {"status": status, "finished_at": time.time(), "error": error, "traceback": traceback}
        metrics = record_non_finite(metrics, curves)
        if metrics is not None:
            values["metrics"] = metrics
        if curves is not None:
            values["curves"] = curves
        if model_path is not None:
            values["model_path"] = model_path
        if environment is not None:
            values["environment"] = environment
        with self._write() as conn:
            conn.execute(update(runs).where(runs.c.id == run_id).values(**values))

    def finish_if_running(self, run_id: int, status: str, error: str) -> bool:
        """End a run that is still marked running (after its process was killed); False if it ended itself."""
        with self._write() as conn:
            result = conn.execute(
                update(runs)
                .where(runs.c.id == run_id, runs.c.status == "running")
                .values(status=status, finished_at=time.time(), error=error)
            )
            return result.rowcount == 1

    def interrupt_if_active(self, run_id: int, error: str) -> bool:
        """A queued or running run whose worker is known dead (a cluster's failed job): interrupted.

        Conditional: a run that ended itself keeps its own final status. False when it had.
        """
        with self._write() as conn:
            result = conn.execute(
                update(runs)
                .where(runs.c.id == run_id, runs.c.status.in_(ACTIVE))
                .values(status="interrupted", finished_at=time.time(), error=error)
            )
            return result.rowcount == 1

    def request_stop(self, run_id: int, actor: Actor | None = None) -> str | None:
        """Ask a run to stop: a queued run is cancelled at once, a running one stops at its next step.

        `actor`: who asks; on a class server only the run's owner or the teacher may (else EfficiencyError).
        None is the lab itself (the scheduler's time limit, the CLI on the server's own machine).
        """
        with self._write() as conn:
            row = conn.execute(
                select(runs.c.status, runs.c.owner, runs.c.owner_name).where(runs.c.id == run_id).with_for_update()
            ).first()
            status = row.status if row else None
            if row is not None and actor is not None:
                actor.check_may_change(run_id, row.owner, row.owner_name, "cancel" if status == "queued" else "stop")
            if status == "queued":
                conn.execute(
                    update(runs)
                    .where(runs.c.id == run_id)
                    .values(
                        status="stopped",
                        stop_requested=True,
                        finished_at=time.time(),
                        error="cancelled before it started",
                    )
                )
                return "stopped"
            if status == "running":
                conn.execute(update(runs).where(runs.c.id == run_id).values(stop_requested=True))
            return status

    def delete(self, run_id: int, actor: Actor | None = None) -> bool:
        """Delete a run, its progress, its kept model, and its uploaded file when no other run uses it.

        An active run must be stopped first (its process would go on). `actor` as for `request_stop`.
        """
        with self._write() as conn:
            row = conn.execute(
                select(runs.c.status, runs.c.owner, runs.c.owner_name).where(runs.c.id == run_id).with_for_update()
            ).first()
            status = row.status if row else None
            if row is not None and actor is not None:
                actor.check_may_change(run_id, row.owner, row.owner_name, "delete")
            if status in ACTIVE:
                raise EfficiencyError(
                    f"Run {run_id} is {status}: stop it first (`runs stop {run_id}`), then delete it."
                )
            model_path = conn.execute(select(runs.c.model_path).where(runs.c.id == run_id)).scalar()
            dataset = conn.execute(select(runs.c.dataset).where(runs.c.id == run_id)).scalar() or ""
            conn.execute(delete(progress).where(progress.c.run_id == run_id))
            deleted = conn.execute(delete(runs).where(runs.c.id == run_id)).rowcount == 1
            # An upload is named alike on every machine (each keeps it in its own uploads folder): match the name.
            name = PurePath(dataset).name
            same_file = (runs.c.dataset == dataset) | runs.c.dataset.endswith(f"/{name}", autoescape=True)
            still_used = conn.execute(select(runs.c.id).where(same_file).limit(1)).first()
            stored_upload = bool(deleted and dataset and still_used is None and
                                 conn.execute(delete(uploads).where(uploads.c.name == name)).rowcount)  # fmt: skip
        if deleted and model_path:
            _remove_kept_model(model_path)
        if deleted and dataset and still_used is None:
            _remove_upload(dataset)
            if stored_upload:  # this machine's copy of it, wherever the run was queued
                _remove_upload(str(paths.uploads_dir() / name))
        return deleted

    # --- reads -----------------------------------------------------------------------------
    def get(self, run_id: int) -> RunRecord | None:
        self.reap_stale()
        with self._read() as conn:
            row = conn.execute(select(runs).where(runs.c.id == run_id)).mappings().first()
        return RunRecord(**row) if row else None

    def list(self, status: str | None = None, limit: int | None = None) -> list[RunRecord]:
        self.reap_stale()
        query = select(runs).order_by(runs.c.id.desc())
        if status:
            query = query.where(runs.c.status == status)
        if limit:
            query = query.limit(limit)
        with self._read() as conn:
            return [RunRecord(**row) for row in conn.execute(query).mappings()]

    def active(self) -> list[RunRecord]:
        """Queued and running runs, oldest first (the queue's order)."""
        self.reap_stale()
        query = select(runs).where(runs.c.status.in_(ACTIVE)).order_by(runs.c.id)
        with self._read() as conn:
            return [RunRecord(**row) for row in conn.execute(query).mappings()]

    def last_starts(self) -> dict[tuple[str, str | None], float]:
        """When each owner's latest run started, per device: the fair queue's tie-break (efficiency.fair_queue)."""
        with self._read() as conn:
            return _last_starts(conn)

    def progress_of(self, run_id: int, after_id: int = 0) -> list[dict[str, Any]]:
        """Progress rows of a run (each with its row id, so a live view can ask only for new ones)."""
        query = (
            select(progress.c.id, progress.c.t, progress.c.data)
            .where(progress.c.run_id == run_id, progress.c.id > after_id)
            .order_by(progress.c.id)
        )
        with self._read() as conn:
            return [{"id": r.id, "t": r.t, **r.data} for r in conn.execute(query)]

    def queue_position(self, run_id: int) -> int | None:
        """1 for the next queued run on its device (in the fair queue's order); None when the run is not queued.

        `efficiency.fair_queue.queue_status` says the same with the reason it waits.
        """
        from efficiency.fair_queue import queue_status

        status = queue_status(self, run_id)
        return None if status is None else status.position

    def move_in_queue(self, run_id: int, where: str, actor: Actor | None = None) -> list[int]:
        """The teacher moves a queued run 'up', 'down' or to the 'front' of its device's queue; returns the new order.

        Every run queued on that device is then pinned in the order shown (efficiency.fair_queue), so the
        teacher's order holds as runs start. Only the teacher may (a student is refused in words); None is
        the lab itself (the personal lab, the command line).
        """
        from efficiency.fair_queue import fair_order

        if actor is not None and actor.in_class and not actor.teacher:
            raise EfficiencyError(
                "Only the teacher can reorder the queue: the queue takes turns between students by itself."
            )
        if where not in ("up", "down", "front"):
            raise ValueError(f"move {where!r}: 'up', 'down' or 'front'")
        self.reap_stale()
        with self._write() as conn:
            record = conn.execute(select(runs.c.status, runs.c.device).where(runs.c.id == run_id)).first()
            if record is None or record.status != "queued":
                state = "gone" if record is None else record.status
                raise EfficiencyError(f"Run {run_id} is {state}, no longer queued: only a waiting run can be moved.")
            on_device = [RunRecord(**row) for row in conn.execute(
                select(runs).where(runs.c.device == record.device, runs.c.status.in_(ACTIVE))).mappings()]  # fmt: skip
            queued, running = ([r for r in on_device if r.status == s] for s in ("queued", "running"))
            order = [r.id for r in fair_order(queued, running, _last_starts(conn))]
            at = order.index(run_id)
            to = {"up": max(at - 1, 0), "down": min(at + 1, len(order) - 1), "front": 0}[where]
            order.insert(to, order.pop(at))
            for rank, queued_id in enumerate(order, start=1):
                conn.execute(
                    update(runs).where(runs.c.id == queued_id, runs.c.status == "queued").values(queue_order=rank)
                )
            return order

    # --- kept models (efficiency.runs.disk_cap) -------------------------------------------------
    def kept_models(self) -> list[tuple[int, str]]:
        """(run id, model folder) of every ended run that kept its model, the longest ended first."""
        query = (
            select(runs.c.id, runs.c.model_path)
            .where(runs.c.model_path.is_not(None), runs.c.status.not_in(ACTIVE))
            .order_by(func.coalesce(runs.c.finished_at, runs.c.created_at), runs.c.id)
        )
        with self._read() as conn:
            return [(row.id, row.model_path) for row in conn.execute(query)]

    def forget_kept_model(self, run_id: int, model_path: str, why: str) -> bool:
        """Clear an ended run's kept model (its folder is about to go) and say why on its card; False if it changed."""
        with self._write() as conn:
            row = conn.execute(
                select(runs.c.metrics)
                .where(runs.c.id == run_id, runs.c.model_path == model_path, runs.c.status.not_in(ACTIVE))
                .with_for_update()
            ).first()
            if row is None:  # running again, deleted, or another machine got there first
                return False
            metrics = {**(row.metrics or {}), "save_error": why}
            conn.execute(update(runs).where(runs.c.id == run_id).values(model_path=None, metrics=metrics))
            return True

    # --- uploaded files (efficiency.runs.uploads) ----------------------------------------------
    def put_upload(self, path: Path) -> str:
        """Keep an uploaded file (named as in the uploads folder, at most 50 MiB) so any server can run it."""
        from efficiency.data.userfile import MAX_FILE_MIB

        if path.stat().st_size > MAX_FILE_MIB * 2**20:
            raise DataError(f"{path.name[13:]} is larger than {MAX_FILE_MIB} MiB: upload a sample of it.")
        content = path.read_bytes()
        row = {"name": path.name, "sha256": hashlib.sha256(content).hexdigest(), "size_bytes": len(content),
               "content": content, "created_at": time.time()}  # fmt: skip
        with self._write() as conn:
            statement = _upsert(conn, uploads)
            if statement is not None:  # the same file uploaded on two machines at once: the first is kept
                conn.execute(statement.on_conflict_do_nothing(index_elements=[uploads.c.name]), row)
            elif conn.execute(select(uploads.c.name).where(uploads.c.name == path.name)).first() is None:
                conn.execute(insert(uploads), row)
        return path.name

    def upload_digest(self, name: str) -> str | None:
        """The SHA-256 of the uploaded file kept under `name`, or None when the store holds no such file."""
        with self._read() as conn:
            return conn.execute(select(uploads.c.sha256).where(uploads.c.name == name)).scalar()

    def upload_content(self, name: str) -> bytes | None:
        with self._read() as conn:
            return conn.execute(select(uploads.c.content).where(uploads.c.name == name)).scalar()

    # --- the lab's settings, when the store is shared (efficiency.lab_settings) ----------------
    def read_settings(self) -> dict[str, Any]:
        """The teacher's settings stored here, by name (empty when none was ever stored)."""
        with self._read() as conn:
            return {row.key: row.value for row in conn.execute(select(settings.c.key, settings.c.value))}

    def write_settings(self, values: Mapping[str, Any]) -> None:
        """Store each setting in one transaction (a key written by two machines at once: the later wins)."""
        rows = [{"key": key, "value": value} for key, value in values.items()]
        with self._write() as conn:
            statement = _upsert(conn, settings)
            if statement is not None:
                update_value = {"value": statement.excluded.value}
                conn.execute(statement.on_conflict_do_update(index_elements=[settings.c.key], set_=update_value), rows)
            else:
                conn.execute(delete(settings).where(settings.c.key.in_(list(values))))
                conn.execute(insert(settings), rows)

    def seed_settings(self, values: Mapping[str, Any]) -> bool:
        """Store `values` only if the store holds no setting yet (a first machine's local file, once); True if so."""
        with self._write() as conn:
            if not self.is_sqlite:  # SQLite's IMMEDIATE transaction already lets one writer in
                conn.execute(select(func.pg_advisory_xact_lock(SETTINGS_LOCK_KEY)))
            if conn.execute(select(settings.c.key).limit(1)).first() is not None:
                return False
            conn.execute(insert(settings), [{"key": key, "value": value} for key, value in values.items()])
            return True

    # --- liveness --------------------------------------------------------------------------
    def reap_stale(self) -> list[int]:
        """Mark running runs whose process is gone as interrupted; never touch a live one."""
        with self._read() as conn:
            candidates = conn.execute(
                select(
                    runs.c.id, runs.c.status, runs.c.host, runs.c.pid, runs.c.pid_started_at, runs.c.heartbeat_at
                ).where((runs.c.status == "running") | ((runs.c.status == "queued") & runs.c.pid.is_not(None)))
            ).all()
        now, dead = time.time(), []
        for row in candidates:
            if row.host == self.host:
                gone = not processes.alive(row.pid, row.pid_started_at)
            else:  # another host's process: its heartbeat (a waiter beats too, every couple of seconds) says
                gone = row.heartbeat_at is None or now - row.heartbeat_at > STALE_AFTER_S
            if gone:
                dead.append(row)
        reaped = []
        for row in dead:
            last = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(row.heartbeat_at or now))
            message = (
                f"The process that ran this run (pid {row.pid} on {row.host}) ended without finishing it: "
                f"killed, crashed, or the machine restarted. Its last heartbeat was at {last}; the progress "
                "recorded until then is kept. Start the run again to get its results."
            )
            saved = unsaved.find(row.id)
            if saved is not None:
                message = (
                    f"The run ended but the run store refused its result, so it was saved to {saved}. "
                    f"Once the store works again (free disk space?), run `python -m efficiency runs import {saved}`."
                )
            with self._write() as conn:
                # Conditional on still running: a concurrent reader or the run itself may have got there first.
                result = conn.execute(
                    update(runs)
                    .where(runs.c.id == row.id, runs.c.status == row.status)
                    .values(status="interrupted", finished_at=now, error=message)
                )
            if result.rowcount:
                reaped.append(row.id)
        return reaped


def _upsert(conn: Connection, table: Any) -> Any:
    """INSERT ... ON CONFLICT for PostgreSQL and SQLite, which both speak it; None for other databases."""
    dialect = conn.dialect.name
    if dialect not in ("postgresql", "sqlite"):
        return None
    return importlib.import_module(f"sqlalchemy.dialects.{dialect}").insert(table)


def _last_starts(conn: Connection) -> dict[tuple[str, str | None], float]:
    query = select(runs.c.device, runs.c.owner, func.max(runs.c.started_at)).group_by(runs.c.device, runs.c.owner)
    return {(r[0], r[1]): r[2] for r in conn.execute(query.where(runs.c.started_at.is_not(None)))}


def _remove_upload(dataset: str) -> None:
    """Delete an uploaded file that no run uses any more, only inside the lab's uploads folder."""
    from efficiency.data.userfile import is_upload

    if is_upload(dataset, paths.uploads_dir()):
        Path(dataset).unlink(missing_ok=True)


def _remove_kept_model(model_path: str) -> None:
    """Delete a run's kept weights, only inside the lab's own models folder."""
    import shutil

    folder = Path(model_path).resolve()
    if paths.models_dir().resolve() in folder.parents:
        shutil.rmtree(folder, ignore_errors=True)
