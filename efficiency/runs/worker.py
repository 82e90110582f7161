"""The background worker: `python -m efficiency.runs.worker RUN_ID`, its store in $EFFLAB_STORE.

Runs one queued run from the store through the runner, in its own process (so the app stays
responsive and a CUDA context is fresh). Progress and a heartbeat go to the store about once a
second; the stop flag is checked every step; SIGTERM sets the same flag. The runner writes the
final status whatever happens. The store's URL comes from the environment, never the command
line, where any user of the machine could read its password.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import threading

from efficiency.config import RunConfig
from efficiency.errors import EfficiencyError
from efficiency.runs.runner import run_experiment, stop_on_signals
from efficiency.store import RunStore


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m efficiency.runs.worker")
    parser.add_argument("run_id", type=int)
    parser.add_argument(
        "--device",
        help="The device an executor placed the run on (a Ray job sees its one GPU as cuda:0): replaces the config's.",
    )
    args = parser.parse_args(argv)
    try:
        store = RunStore()  # $EFFLAB_STORE, else the default SQLite file
    except EfficiencyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    record = store.get(args.run_id)
    if record is None:
        print(f"error: there is no run {args.run_id}", file=sys.stderr)
        return 2
    stop = threading.Event()
    stop_on_signals(stop)
    try:
        config = RunConfig.from_dict(record.config)
        if args.device:
            config = dataclasses.replace(config, device=args.device)
    except EfficiencyError as exc:
        store.finish(args.run_id, "failed", error=f"The stored config cannot be used: {exc}")
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        result = run_experiment(config, store=store, run_id=args.run_id, stop=stop)
    except EfficiencyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0 if result.status in ("finished", "stopped") else 1


if __name__ == "__main__":
    sys.exit(main())
