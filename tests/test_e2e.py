"""End to end on the real model: the default MiniLM run of the README (part of `make test`, about 2 minutes)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from tests.conftest import needs_shared_data

pytestmark = [pytest.mark.e2e, needs_shared_data]


def test_default_minilm_run_reaches_the_documented_quality():
    start = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "efficiency",
            "train",
            "--model",
            "minilm",
            "--dataset",
            "nusax-senti/javanese",
            "--json",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        env=os.environ,
        timeout=900,
    )
    wall_s = time.perf_counter() - start
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    assert result["status"] == "finished"
    assert result["macro_f1"] >= 0.65, result["macro_f1"]
    assert result["total_params"] > 20_000_000 and result["train_flops"] > 1e12
    assert result["energy_method"].startswith("CodeCarbon")
    print(f"\nMiniLM default run: macro-F1 {result['macro_f1']:.3f}, {wall_s:.0f} s end to end")
