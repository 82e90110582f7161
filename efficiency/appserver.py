"""Start the Streamlit app as a child process (for the browser test and the screenshot script)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from efficiency import paths


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serving(
    env: dict[str, str] | None = None,
    port: int | None = None,
    startup_s: float = 90,
    as_class: bool = False,
    log: Path | None = None,
) -> Iterator[str]:
    """Serve app.py headless on a free port until the block ends; yields its URL once it answers.

    `as_class`: through `make class`'s own entry point (efficiency.class_server), which needs a PIN in `env`.
    `log`: where the server's output goes (a page shows an exception's details only there); by default nowhere.
    """
    port = port or free_port()
    command = (
        [sys.executable, "-m", "efficiency.class_server", "--port", str(port), "--address", "127.0.0.1"]
        if as_class
        else [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
              "--server.headless", "true", "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
    )  # fmt: skip
    with open(log, "ab") if log else open(os.devnull, "wb") as output:  # the child keeps its own copy
        process = subprocess.Popen(
            command, cwd=paths.REPO_ROOT, env={**os.environ, **(env or {})}, stdout=output, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + startup_s
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                if process.poll() is not None:
                    raise RuntimeError(f"the app exited at start (code {process.returncode})") from None
                if time.time() > deadline:
                    raise
                time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
