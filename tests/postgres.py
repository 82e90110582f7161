"""A throwaway PostgreSQL server for the tests: Debian's `postgresql`, in a temporary folder, on 127.0.0.1.

`initdb` refuses to run as root (CI runs as root), so there the server runs as the `postgres` user,
in a folder that user owns. The server listens on a free port of 127.0.0.1 only, trusts local
connections (nothing else can reach it) and skips fsync: it lives for one test session. Its owner
(the session fixture in conftest.py) stops it at the end, even when tests fail; `atexit` is the
second line for an interpreter that exits some other way, and a watchdog process the third: it stops
the server once the test process is gone, even killed outright (SIGKILL runs no clean-up).
"""

from __future__ import annotations

import atexit
import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

START_TIMEOUT_S = 60

# Runs in its own session: waits for the test process to end, then stops the server and removes its folder.
_WATCHDOG = """
import os, shutil, subprocess, sys, time
parent, stop, folder = int(sys.argv[1]), sys.argv[2:-1], sys.argv[-1]
while True:
    try:
        os.kill(parent, 0)
    except ProcessLookupError:
        break
    except PermissionError:
        pass
    time.sleep(1)
subprocess.run(stop, capture_output=True, timeout=30, check=False)
shutil.rmtree(folder, ignore_errors=True)
"""


class Unavailable(RuntimeError):
    """PostgreSQL's server programs are not installed here (or cannot run as their user)."""


def bin_dir() -> Path:
    """The folder of Debian's initdb and pg_ctl (they live off PATH, under /usr/lib/postgresql/VERSION/bin)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).resolve().parent
    raise Unavailable("PostgreSQL's initdb is not installed (`make test` installs Debian's postgresql)")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    folder: Path
    port: int
    user: str | None  # the OS user the server runs as; None: this process's own user
    watchdog: subprocess.Popen[bytes] | None = None

    def url(self, schema: str | None = None) -> str:
        """The SQLAlchemy URL of the server's database; with `schema`, every table lives in that schema."""
        url = f"postgresql+psycopg://efflab@127.0.0.1:{self.port}/postgres"
        return f"{url}?options=-csearch_path%3D{schema}" if schema else url

    def _as_owner(self, command: list[str]) -> list[str]:
        return ["runuser", "-u", self.user, "--", *command] if self.user else command

    def stop_command(self) -> list[str]:
        pg_ctl = str(bin_dir() / "pg_ctl")
        return self._as_owner([pg_ctl, "stop", "-D", str(self.folder / "data"), "-m", "immediate"])

    def stop(self) -> None:
        """Stop the server now (immediate: nothing in it is worth a clean shutdown) and remove its folder."""
        if self.watchdog is not None and self.watchdog.poll() is None:
            self.watchdog.kill()
            self.watchdog.wait()
        if self.folder.exists():
            subprocess.run(self.stop_command(), capture_output=True, timeout=30, check=False)
            shutil.rmtree(self.folder, ignore_errors=True)

    def fresh_store_url(self) -> str:
        """The URL of a new, empty schema: a test's own store (a schema costs milliseconds, a database ~0.5 s)."""
        import psycopg

        schema = f"t{uuid.uuid4().hex}"
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=efflab dbname=postgres", autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
        return self.url(schema)


def start() -> Server:
    """initdb, then pg_ctl start on a free port; raises Unavailable when it cannot."""
    programs = bin_dir()
    user = "postgres" if os.geteuid() == 0 else None
    if user is not None and shutil.which("runuser") is None:
        raise Unavailable("running as root without `runuser`, and initdb refuses root")
    folder = Path(tempfile.mkdtemp(prefix="efflab-pg-"))
    if user is not None:
        shutil.chown(folder, user=user, group=user)
    server = Server(folder, free_port(), user)
    atexit.register(server.stop)
    data, log = folder / "data", folder / "server.log"
    try:
        subprocess.run(
            server._as_owner([str(programs / "initdb"), "-D", str(data), "-U", "efflab", "-A", "trust",
                              "--no-sync", "-E", "UTF8", "--locale=C"]),
            capture_output=True, text=True, timeout=START_TIMEOUT_S, check=True,
        )  # fmt: skip
        options = f"-p {server.port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
        subprocess.run(
            server._as_owner([str(programs / "pg_ctl"), "start", "-D", str(data), "-l", str(log), "-w",
                              "-t", str(START_TIMEOUT_S), "-o", options]),
            capture_output=True, text=True, timeout=START_TIMEOUT_S + 10, check=True,
        )  # fmt: skip
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        detail = getattr(exc, "stderr", "") or ""
        server.stop()
        raise Unavailable(f"PostgreSQL did not start: {exc} {detail}".strip()) from None
    server.watchdog = subprocess.Popen(
        [sys.executable, "-c", _WATCHDOG, str(os.getpid()), *server.stop_command(), str(folder)],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    return server
