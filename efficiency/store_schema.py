"""The run store's schema: the runs and progress tables, SQLite's settings, creation and migration.

The store (`efficiency.store`) reads and writes rows; this module says what a row is and how a
fresh or older database is brought to the current shape, safely when many processes open it at once.
"""

from __future__ import annotations

import os
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Connection,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    event,
)
from sqlalchemy.engine import Engine

from efficiency import paths

BUSY_TIMEOUT_MS = 15_000
SCHEMA_LOCK_KEY = 0x45464C42  # "EFLB": PostgreSQL's advisory lock held while the tables are created or altered

metadata = MetaData()

runs = Table(
    "runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False, default=""),
    Column("note", Text, nullable=False, default=""),
    Column("status", String(16), nullable=False, index=True),
    Column("model", String(300), nullable=False, default=""),
    Column("dataset", String(300), nullable=False, default=""),
    Column("device", String(32), nullable=False, default=""),
    Column("created_at", Float, nullable=False),
    Column("started_at", Float),
    Column("finished_at", Float),
    Column("heartbeat_at", Float),
    Column("host", String(255)),
    Column("pid", Integer),
    Column("pid_started_at", Float),  # guards against a recycled pid
    Column("stop_requested", Boolean, nullable=False, default=False),
    Column("config", JSON, nullable=False),
    Column("metrics", JSON),
    Column("curves", JSON),
    Column("environment", JSON),
    Column("progress", JSON),  # the latest progress, for tables and live views
    Column("error", Text),
    Column("traceback", Text),
    Column("model_path", String(1000)),
    Column("estimate", JSON),  # the cost predicted before the run, shown beside what was measured
    Column("request", String(200)),  # runs queued together (a lesson's runs) share it: a quota counts it once
    Column("owner", String(64)),  # SHA-256 of the owner's token (class server): the token itself is never stored
    Column("owner_name", String(100)),  # the name the owner typed
    Column("queue_order", Float),  # the teacher's order of a device's queue (efficiency.fair_queue); None: fair
    sqlite_autoincrement=True,  # a deleted run's id is never given to a new run (links, logs, kept models)
)

progress = Table(
    "progress",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Integer, ForeignKey("runs.id", ondelete="CASCADE"), index=True, nullable=False),
    Column("t", Float, nullable=False),
    Column("data", JSON, nullable=False),
)

# Uploaded datasets (at most 50 MiB), so any machine serving the class's queue can run them: each is named as in
# an uploads folder (its content hash's first 12 hex digits, then its own name) and kept as plain bytes.
uploads = Table(
    "uploads",
    metadata,
    Column("name", String(120), primary_key=True),
    Column("sha256", String(64), nullable=False),
    Column("size_bytes", Integer, nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("created_at", Float, nullable=False),
)

# The teacher's lab settings when a store is shared (efficiency.lab_settings): one row per setting, so every
# app server and queue server of a class reads the same time limit, quota and disk cap.
settings = Table(
    "settings",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", JSON),  # JSON null: no limit
)


def default_url() -> str:
    return os.environ.get("EFFLAB_STORE") or personal_url()


def personal_url() -> str:
    """The personal lab's store: a SQLite file in this user's application-data folder, shared with no one."""
    return f"sqlite:///{paths.app_data_dir() / 'runs.sqlite'}"


def sqlite_pragmas(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")  # safe with WAL; a power cut may lose the last commit only
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("write") else "BEGIN")


def create_tables(engine: Engine) -> None:
    """Create the tables once, even when several processes open a fresh store at the same moment."""
    from sqlalchemy import inspect

    if all(inspect(engine).has_table(table.name) for table in metadata.sorted_tables):
        return  # the usual case: no write lock taken
    # A deferred transaction that reads and then writes fails at once with "database is locked"
    # when another process wrote in between (SQLite does not retry a stale snapshot); an
    # immediate one takes the write lock first and waits its turn under busy_timeout.
    with engine.connect().execution_options(write=True) as conn, conn.begin():
        _serialise_schema_changes(conn)
        metadata.create_all(conn)


def add_missing_columns(engine: Engine) -> None:
    """Add columns that a newer version of this table has to a store created by an older one."""
    from sqlalchemy import inspect

    present = {c["name"] for c in inspect(engine).get_columns("runs")}
    missing = [column for column in runs.columns if column.name not in present]
    if not missing:
        return  # the usual case: no write lock taken when many processes open the store at once
    with engine.connect().execution_options(write=True) as conn, conn.begin():
        _serialise_schema_changes(conn)
        present = (
            {row[1] for row in conn.exec_driver_sql("PRAGMA table_info(runs)")}
            if engine.dialect.name == "sqlite"
            else present
        )
        for column in missing:
            if column.name not in present:
                kind = column.type.compile(dialect=engine.dialect)
                guard = "IF NOT EXISTS " if engine.dialect.name == "postgresql" else ""
                conn.exec_driver_sql(f"ALTER TABLE runs ADD COLUMN {guard}{column.name} {kind}")


def _serialise_schema_changes(conn: Connection) -> None:
    """On PostgreSQL, one process at a time creates or alters the tables (SQLite's IMMEDIATE does it there).

    Without it, two processes opening a fresh class database both try CREATE TABLE and one fails.
    """
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({SCHEMA_LOCK_KEY})")
