import threading

import pytest

from efficiency.errors import ConfigError
from efficiency.runs.runner import run_experiment
from efficiency.store import RunStore
from tests.conftest import needs_shared_data, tiny_config

pytestmark = needs_shared_data


def test_a_tiny_run_is_measured_and_stored_with_provenance():
    store = RunStore()
    rows = []
    config = tiny_config()
    config.save_model = True
    result = run_experiment(config, store=store, on_progress=rows.append)
    assert result.status == "finished"
    m = result.metrics
    assert 0 <= m["accuracy"] <= 1 and 0 <= m["macro_f1"] <= 1
    for key in ("train_wall_s", "eval_wall_s", "train_flops", "energy_kwh", "co2_kg", "peak_memory_mb",
                "model_size_mb", "latency_ms_b1", "latency_ms_b32"):  # fmt: skip
        assert m[key] > 0, key
    assert m["total_params"] == m["trainable_params"] > 1_000_000
    prov = m["provenance"]
    assert prov["train_flops"]["kind"] == "counted"
    assert prov["energy_kwh"]["kind"] in {"measured", "estimated"}
    assert prov["accuracy"]["kind"] == "measured"
    assert m["co2_kg"] == pytest.approx(m["energy_kwh"] * m["carbon_intensity_g_per_kwh"] / 1000)
    assert rows and rows[-1]["step"] == 2 * 8  # 120 examples / 16 = 8 steps per epoch
    record = store.get(result.run_id)
    assert record.status == "finished"
    assert record.config["train"]["learning_rate"] == 1e-3, "the stored config has its defaults resolved"
    assert record.config["data"]["max_length"] == 128
    assert record.environment["libraries"]["torch"]
    assert record.model_path and (__import__("pathlib").Path(record.model_path) / "config.json").is_file()
    assert len(record.curves["train"]) == 16 and len(record.curves["valid"]) == 2
    assert store.progress_of(result.run_id), "progress was written while it ran"


def test_measurement_can_be_switched_off():
    config = tiny_config()
    config.measure.energy = config.measure.flops = config.measure.latency = False
    m = run_experiment(config).metrics
    assert m["train_flops"] is None and m["energy_kwh"] is None and "latency_ms_b1" not in m


def test_a_stop_keeps_what_was_measured():
    stop = threading.Event()
    seen = []

    def progress(row):
        seen.append(row)
        if row["step"] == 3:
            stop.set()

    store = RunStore()
    result = run_experiment(tiny_config(), store=store, on_progress=progress, stop=stop)
    assert result.status == "stopped"
    assert result.metrics["steps"] == 3 and "step 3 of 16" in result.metrics["stopped_at"]
    assert result.metrics["accuracy"] is not None and result.metrics["energy_kwh"] > 0
    assert store.get(result.run_id).status == "stopped"


def test_an_impossible_config_inserts_no_run_and_a_queued_one_is_stored_as_failed():
    store = RunStore()
    config = tiny_config()
    config.train.epochs = 0
    with pytest.raises(ConfigError, match="at least 1 epoch"):
        run_experiment(config, store=store)
    assert store.list() == [], "the message is all there is: no run was recorded"
    run_id = store.create_run(config.to_dict())  # queued by a page before the config went bad
    with pytest.raises(ConfigError, match="at least 1 epoch"):
        run_experiment(config, store=store, run_id=run_id)
    record = store.get(run_id)
    assert record.status == "failed" and "at least 1 epoch" in record.error


def test_the_tfidf_baseline_is_measured_the_same_way():
    config = tiny_config()
    config.model.name = "tfidf-logreg"
    result = run_experiment(config)
    m = result.metrics
    assert result.status == "finished"
    assert m["accuracy"] > 0.4 and m["energy_kwh"] > 0 and m["latency_ms_b1"] > 0
    assert m["train_flops"] is None and "not counted" in m["provenance"]["train_flops"]["method"]


def test_a_run_waiting_for_the_device_can_be_cancelled_from_the_store():
    import subprocess
    import sys
    import time

    from tests.runs.test_slots import HOLD

    holder = subprocess.Popen([sys.executable, "-c", HOLD, "60"], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    try:
        store = RunStore()
        config = tiny_config()
        run_id = store.create_run(config.to_dict())
        results = []
        worker = threading.Thread(target=lambda: results.append(run_experiment(config, store=store, run_id=run_id)))
        worker.start()
        time.sleep(1.5)
        assert store.get(run_id).status == "queued" and store.get(run_id).pid is not None
        store.request_stop(run_id)  # as the app's Cancel or `runs stop` does
        worker.join(timeout=15)
        assert not worker.is_alive(), "the waiting run noticed the cancel"
        assert results[0].status == "stopped"
        assert store.get(run_id).status == "stopped"
    finally:
        holder.kill()
        holder.wait()


def test_a_measured_batch_size_is_timed_chosen_stored_and_trained_with(monkeypatch):
    from efficiency.measure import batch_choice

    monkeypatch.setattr(batch_choice, "SIZES", (4, 8))  # 120 examples: both leave the 2 steps asked for below
    monkeypatch.setattr(batch_choice, "MIN_STEPS_PER_EPOCH", 2)
    store, said = RunStore(), []
    result = run_experiment(tiny_config(measure_batch_size=True), store=store, on_status=said.append)
    choice = result.metrics["batch_choice"]
    assert choice["batch_size"] in (4, 8) and [r["batch_size"] for r in choice["sweep"]] == [4, 8]
    assert all(r["step_ms"] > 0 for r in choice["sweep"])
    stored = store.get(result.run_id).config["train"]
    assert stored["batch_size"] == choice["batch_size"] and stored["measure_batch_size"] is False, "reproducible"
    assert result.metrics["steps"] == 2 * 120 // choice["batch_size"], "trained with the chosen batch"
    assert result.metrics["provenance"]["batch_choice"]["kind"] == "measured"
    assert any(line.startswith(f"Batch size {choice['batch_size']}, measured on cpu") for line in said)


def test_a_small_dataset_keeps_the_smallest_batch_without_timing():
    result = run_experiment(tiny_config(measure_batch_size=True))  # 120 examples: no batch leaves 32 steps
    assert result.metrics["batch_choice"]["batch_size"] == 16 and result.metrics["batch_choice"]["sweep"] == []


def test_measuring_the_batch_size_and_training_a_teacher_in_one_run_is_refused():
    from efficiency.config import parse_technique

    config = tiny_config(measure_batch_size=True)
    config.techniques = [parse_technique("distill")]
    with pytest.raises(ConfigError, match="cannot be combined"):
        run_experiment(config)
