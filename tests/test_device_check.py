"""The device check runs every GPU path on this CPU, as a bare GPU image would load the lab (issue 15).

One subprocess runs `benchmarks/device_check.py --device cpu --quick` through tests/device_fakes.py:
the modules the GPU image lacks are blocked, and NVML, CUDA memory, fp16 loss scaling and
bitsandbytes are faked, so each branch the GPU check takes runs here and reports its figures.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import torch
from safetensors.torch import load_file

from benchmarks import device_check
from efficiency import paths
from efficiency.model_files import minilm_folder
from scripts import prepare_device_check as prepare
from tests.conftest import needs_shared_data


@needs_shared_data
def test_quick_check_runs_every_path_as_on_a_bare_gpu_image(tmp_path):
    tokenizer = prepare.copy_tokenizer(minilm_folder(), tmp_path / "tokenizer")  # the bnb call's carried folder
    fakes_log, out = tmp_path / "fakes.json", tmp_path / "check.json"
    env = {**os.environ, "EFFLAB_MINILM_DIR": str(tokenizer), "DEVICE_FAKES_LOG": str(fakes_log),
           "EFFLAB_HOME": str(tmp_path / "home"), "OMP_NUM_THREADS": "1"}  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "tests.device_fakes", "--device", "cpu", "--quick", "--json", "--out", str(out)],
        cwd=paths.REPO_ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads(done.stdout)
    assert report["ok"] and json.loads(out.read_text())["ok"]
    rows = {row["name"]: row for row in report["rows"]}
    assert list(rows) == [row.name for row in device_check.ROWS]
    for row in rows.values():
        assert row["status"] == "ok", row
        assert 0 <= row["accuracy"] <= 1 and row["examples_per_s"] > 0, row
        assert row["cuda_peak_memory_mb"] > 0 and row["nvml_energy_j"] > 0, row  # the meters' CUDA branches
        # The fake board idles at 70 W while measured, then draws 300 W: the run's share is the rest.
        assert row["nvml_idle_w"] == pytest.approx(70, rel=0.05) and row["nvml_notes"] == [], row
        assert 0 < row["nvml_attributable_j"] < row["nvml_energy_j"], row
    assert rows["qlora-4bit"]["technique_report"]["quant"]["bits"] == 4
    assert rows["qlora-8bit"]["technique_report"]["quant"]["bits"] == 8
    assert rows["amp-fp16"]["technique_report"]["amp"]["dtype"] == "fp16"
    assert "lora" in rows["home-demo"]["technique_report"], "the home page's demo, as it is: MiniLM's LoRA"
    for race in report["engine"].values():
        assert race["status"] == "ok" and race["speedup"] > 0, race
        # The measured recipe: a batch size and precision timed on the device, then trained with.
        assert race["recipe"]["batch_size"] in (4, 8) and race["recipe"]["dtype"] in ("fp32", "bf16"), race
        assert len(race["recipe"]["sweep"]) == 4 and race["recipe_examples_per_s"] > 0, race
    seen = json.loads(fakes_log.read_text())
    assert "codecarbon" in seen["blocked"], "the run tried CodeCarbon, was refused, and went on"
    assert seen["grad_scaler_steps"] > 0, "fp16 trained through the GradScaler"
    configs = {
        (c["load_in_4bit"], c["bnb_4bit_quant_type"], c["bnb_4bit_use_double_quant"]) for c in seen["bnb_configs"]
    }
    assert configs == {(False, "fp4", False), (True, "nf4", True)}, "8-bit, and QLoRA's NF4 with double quantization"
    # The head stays in full precision: quantized, peft could not train it (what broke on the H200).
    assert all("classifier" in c["llm_int8_skip_modules"] for c in seen["bnb_configs"]), seen["bnb_configs"]


def test_a_failing_path_is_named_and_the_exit_status_says_so(capsys):
    assert device_check.main(["--device", "cpu", "--quick", "--only", "amp-fp16", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["failed"] == ["amp-fp16"] and "engine" not in report
    assert "needs a CUDA GPU" in report["rows"][0]["error"]  # the lab's own message, without a traceback


def test_a_missing_package_is_named_in_a_plain_message(tmp_path):
    blocker = "import sys; sys.modules['torch'] = None; sys.argv = ['device_check.py', '--help']; "
    run = f"import runpy; runpy.run_path({str(paths.REPO_ROOT / 'benchmarks' / 'device_check.py')!r}, run_name='__main__')"
    done = subprocess.run([sys.executable, "-c", blocker + run], capture_output=True, text=True, timeout=300)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "needs the Python module 'torch', which this machine lacks" in done.stderr


def test_only_refuses_an_unknown_path_in_words():
    with pytest.raises(SystemExit, match="unknown qlora-2bit; choose from techniques, bnb, engine"):
        device_check.selected("qlora-2bit")
    assert device_check.selected("bnb") == ({"bnb"}, {"qlora-8bit", "qlora-4bit"})


def test_bnb_rows_are_skipped_with_the_way_to_run_them_when_bitsandbytes_is_absent(monkeypatch):
    monkeypatch.setattr(device_check, "has_bitsandbytes", lambda: False)
    args = device_check.parse_args(["--device", "cpu", "--quick"])
    row = device_check.check_row(args, device_check.ROWS[-1], "tiny")
    assert row["status"] == "skipped" and "--only bnb" in row["error"]


def test_a_cuda_row_without_its_nvml_energy_fails_and_says_which_figure(monkeypatch):
    from efficiency.config import RunConfig
    from efficiency.runs.recipe import RecipeResult

    finished = RecipeResult("finished", RunConfig(), {"accuracy": 0.5, "cuda_peak_memory_mb": 12.0}, {}, None)
    monkeypatch.setattr(device_check, "run_recipe", lambda config, eval_limit=None: finished)
    on_cuda = device_check.check_row(device_check.parse_args(["--device", "cuda"]), device_check.ROWS[0], "tiny")
    assert on_cuda["status"] == "failed" and on_cuda["error"] == "no nvml_energy_j measured"
    on_cpu = device_check.check_row(device_check.parse_args(["--device", "cpu"]), device_check.ROWS[0], "tiny")
    assert on_cpu["status"] == "ok" and on_cpu["cuda_peak_memory_mb"] == 12.0


def test_the_fp16_minilm_copy_is_half_the_bytes_and_loads_back_in_fp32(tmp_path, monkeypatch):
    from efficiency.models import load_classifier

    source = minilm_folder()
    copy = prepare.fp16_copy(source, tmp_path / "minilm")
    assert (copy / "model.safetensors").stat().st_size < 0.55 * (source / "model.safetensors").stat().st_size
    monkeypatch.setenv("EFFLAB_MINILM_DIR", str(copy))
    loaded = load_classifier("minilm", ["negative", "neutral", "positive"])
    assert "EFFLAB_MINILM_DIR" in loaded.source
    weights = dict(loaded.model.named_parameters())
    original = load_file(source / "model.safetensors")
    query = "encoder.layer.0.attention.self.query.weight"
    assert weights[f"bert.{query}"].dtype == torch.float32  # trained in fp32 although stored in fp16
    assert torch.allclose(weights[f"bert.{query}"], original[query], atol=1e-3)


def test_the_two_calls_carry_what_each_needs_and_fit_the_limits():
    main, bnb = prepare.calls(prepare.OUT)
    assert main["timeout_s"] + bnb["timeout_s"] < 15 * 60 / 2, "a failed first try can be run again"
    assert "--only bnb" in bnb["command"] and "--model tiny" in bnb["command"]
    assert any(path.endswith("wheels-bnb") for path in bnb["carry"]) and not any("minilm" in p for p in bnb["carry"])
    assert len(main["command"]) <= 2000 and len(bnb["command"]) <= 2000
