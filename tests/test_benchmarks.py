"""The benchmark scripts run end to end (on the tiny model, in seconds) and keep what they measured."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from efficiency import paths
from tests.conftest import needs_shared_data

pytestmark = needs_shared_data
SMOKE = ["--model", "tiny", "--limit-train", "48", "--seeds", "1", "--epochs", "1"]


def bench(script: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(paths.REPO_ROOT / "benchmarks" / script), *args],
        capture_output=True,
        text=True,
        timeout=600,
        env=os.environ,
    )


def test_technique_benchmark_keeps_rows_and_resumes(tmp_path):
    rows = tmp_path / "rows.jsonl"
    first = bench("bench_techniques.py", *SMOKE, "--only", "full,probe", "--rows", str(rows), "--json")
    assert first.returncode == 0, first.stderr[-2000:]
    table = json.loads(first.stdout)["table"]
    assert set(table) == {"full", "probe"}
    assert table["probe"]["trainable_params_ratio"] < 0.01
    assert len(rows.read_text().splitlines()) == 2
    again = bench("bench_techniques.py", *SMOKE, "--only", "full,probe", "--rows", str(rows))
    assert again.returncode == 0 and "seed 42" not in again.stderr, "finished runs are not run again"
    assert "| probe |" in again.stdout


def test_engine_benchmark_prints_one_json_object():
    done = bench("bench_engine.py", *SMOKE, "--overhead-pairs", "1", "--json")
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    for key in ("engine_examples_per_s", "trainer_examples_per_s", "speedup", "engine_accuracy", "trainer_accuracy",
                "overhead_pct"):  # fmt: skip
        assert isinstance(result[key], float), key


def test_reproduce_papers_gives_verdicts_from_the_benchmark_rows():
    done = bench("reproduce_papers.py", "--from-bench", "--json")
    assert done.returncode == 0, done.stderr[-2000:]
    rows = {row["name"]: row for row in json.loads(done.stdout)["rows"]}
    assert rows["peft-family"]["verdict"] == "reproduced"  # parameter counts: decided on one seed
    lora = rows["lora-vs-full"]["result"]
    assert lora["runs"] == {"full": [], "lora": []} and lora["figures"]["lora"]["accuracy"]["n"] == 2
    assert "| **reproduced** |" in bench("reproduce_papers.py", "--from-bench").stdout


def test_amp_benchmark_compares_the_variants_and_profiles_their_steps():
    done = bench("bench_amp_cpu.py", "--model", "tiny", "--limit-train", "32", "--limit-eval", "8", "--epochs", "1",
                 "--rounds", "1", "--variants", "fp32,bf16", "--profile", "--profile-steps", "2", "--plain-steps", "1",
                 "--allow-emulated",
                 "--json")  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    assert result["speedup_vs_fp32"]["fp32"] == 1.0 and result["speedup_vs_fp32"]["bf16"] > 0
    assert len(result["accuracy"]["bf16"]) == len(result["train_cpu_s"]["bf16"]) == 1
    assert result["accuracy"]["fp32"][0] * 8 == pytest.approx(round(result["accuracy"]["fp32"][0] * 8)), "8 tested"
    fp32, bf16 = result["profile"]["fp32"], result["profile"]["bf16"]
    assert "aten::_fused_adamw_" in bf16["calls_per_step"] and "aten::_fused_adamw_" not in fp32["calls_per_step"]
    assert fp32["by_kind"]["optimiser step"] > 0 and bf16["by_kind"]["matrix products"] > 0
    # Autocast casts the fp32 weights to bf16 at every step: conversions an fp32 step does not make.
    assert bf16["calls_per_step"]["aten::_to_copy"] > 10 + fp32["calls_per_step"].get("aten::_to_copy", 0)
    assert "| optimiser step |" in result["profile_table"]
    plain = result["plain_step"]
    assert plain["fp32_ms"] > 0 and plain["speedup"] == pytest.approx(plain["fp32_ms"] / plain["bf16_ms"])


def test_engine_profile_sweeps_batch_sizes_and_profiles_the_engine():
    done = bench("engine_profile.py", "--model", "tiny", "--dataset", "nusax-senti/javanese", "--device", "cpu",
                 "--sizes", "2,4", "--dtypes", "fp32", "--steps", "1", "--limit", "16", "--profiles", "fp32:knee",
                 "--json")  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    assert [(r["dtype"], r["batch_size"]) for r in result["sweep"]] == [("fp32", 2), ("fp32", 4)]
    assert result["knee"]["fp32"] in (2, 4)
    (profile,) = result["profiles"]
    assert profile["batch_size"] == result["knee"]["fp32"] and profile["examples"] == 16
    assert profile["host_ms_by_kind"]["matmul"] > 0, "the model's matrix products were profiled"
    assert (
        any(op["op"] == "aten::addmm" for op in profile["top_host_ops"]) or profile["host_ms_by_kind"]["optimizer"] > 0
    )
