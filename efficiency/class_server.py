"""`make class`: the lab served to a classroom's network, which refuses to start without a teacher PIN.

The personal lab (`make app`) listens on 127.0.0.1 only and lets its one user do everything. The class
server listens on the network, marks the app as a class (`$EFFLAB_CLASS`), and hands the PIN to the app
through its environment, never its command line.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from efficiency import paths
from efficiency.class_auth import PIN_ENV, PIN_FILE_ENV, read_pin
from efficiency.errors import EfficiencyError

CLASS_ENV = "EFFLAB_CLASS"
NO_PIN = (
    f"The class server needs a teacher PIN, so that only the teacher can change settings or stop others' runs: "
    f"export {PIN_ENV}=... (at least 4 characters), or put it in a file only you can read (chmod 600) and "
    f"export {PIN_FILE_ENV}=/path/to/it. Never pass it on the command line."
)


def streamlit_command(port: int, address: str) -> list[str]:
    return [sys.executable, "-m", "streamlit", "run", str(paths.REPO_ROOT / "app.py"), "--server.port", str(port),
            "--server.address", address, "--server.headless", "true", "--browser.gatherUsageStats", "false"]  # fmt: skip


def class_environment(environ: dict[str, str]) -> dict[str, str]:
    """The app's environment on a class server; EfficiencyError says why it cannot start."""
    pin = read_pin(environ)
    if pin is None:
        raise EfficiencyError(NO_PIN)
    # Streamlit runs each rerun in a new thread, and glibc gives threads arenas of their own (up to 8 per core),
    # which fragment a long-lived server's memory; two is the usual cure (README, "The class under load").
    return {"MALLOC_ARENA_MAX": "2", **environ, CLASS_ENV: "1", PIN_ENV: pin}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=8501)
    parser.add_argument("--address", default="0.0.0.0", help="Where to listen (default: every network).")
    args = parser.parse_args(argv)
    try:
        environment = class_environment(dict(os.environ))
    except EfficiencyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    command = streamlit_command(args.port, args.address)
    # Streamlit reads .streamlit/config.toml from the working folder: no tracebacks in the browser, no file watcher.
    os.chdir(paths.REPO_ROOT)
    os.execve(command[0], command, environment)  # the PIN travels in the environment only
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
