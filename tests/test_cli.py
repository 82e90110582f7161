import json
import os
import signal
import subprocess
import sys
import time

import pytest

from efficiency.cli import main
from efficiency.store import RunStore
from tests.conftest import needs_shared_data

pytestmark = needs_shared_data
TINY = ["--model", "tiny", "--dataset", "nusax-senti/javanese", "--limit-train", "60", "--epochs", "1",
        "--latency-repeats", "1", "--device", "cpu"]  # fmt: skip
REQUIRED_KEYS = {
    "run_id", "status", "model", "dataset", "accuracy", "macro_f1", "train_wall_s", "eval_wall_s", "train_flops",
    "energy_kwh", "energy_method", "co2_kg", "carbon_intensity_g_per_kwh", "peak_memory_mb", "total_params",
    "trainable_params", "model_size_mb", "latency_ms_b1", "latency_ms_b32", "device", "config", "techniques",
}  # fmt: skip


def cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "efficiency", *args], capture_output=True, text=True, timeout=timeout, env=os.environ
    )


def test_train_json_prints_exactly_one_object_with_every_key():
    done = cli("train", *TINY, "--json", "--country", "FR")
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)  # the whole of stdout is one JSON object
    assert payload.keys() >= REQUIRED_KEYS
    assert payload["status"] == "finished" and payload["device"] == "cpu"
    assert payload["config"]["measure"]["country"] == "FRA"
    assert "train" in done.stderr  # the progress bar went to stderr


def test_runs_list_show_and_export(capsys, tmp_path):
    assert main(["train", *TINY, "--quiet", "--name", "first"]) == 0
    capsys.readouterr()
    assert main(["runs", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed[0]["status"] == "finished" and listed[0]["name"] == "first"
    run_id = listed[0]["run_id"]
    assert main(["runs", "show", str(run_id), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["metrics"]["accuracy"] is not None
    assert main(["runs", "export", "--format", "csv", "--output", str(tmp_path / "runs.csv")]) == 0
    header = (tmp_path / "runs.csv").read_text().splitlines()[0]
    assert "accuracy" in header and "energy_kwh" in header
    assert main(["runs", "export", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["id"] == run_id


def test_config_file_with_flag_override(tmp_path, capsys):
    from efficiency.config import RunConfig

    config = RunConfig()
    config.model.name = "tiny"
    config.data.limit_train = 60
    config.train.epochs = 5
    path = tmp_path / "run.json"
    path.write_text(config.to_json())
    assert main(["train", "--config", str(path), "--epochs", "1", "--latency-repeats", "1", "--json", "--quiet"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["config"]["train"]["epochs"] == 1 and payload["config"]["data"]["limit_train"] == 60


@pytest.mark.parametrize(
    ("args", "phrase"),
    [
        (["--dataset", "nusax-senti/klingon"], "no language 'klingon'"),
        (["--model", "no-org/no-model"], "Could not load model"),
        (["--epochs", "0"], "at least 1 epoch"),
        (["--learning-rate", "5"], "positive rate below 1"),
    ],
)
def test_bad_input_gets_a_message_and_exit_2(args, phrase, capsys):
    assert main(["train", *TINY, "--quiet", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and phrase in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("args", "phrase"),
    [
        (["--epochs", "0"], "epochs is 0: train for at least 1 epoch."),
        (["--learning-rate", "-0.001"], "learning_rate is -0.001: use a positive rate below 1"),
        (["--max-length", "4096"], "max_length is 4096, but tiny reads at most 512 tokens (its position limit)"),
        (["--batch-size", "1000000000"], "batch_size is 1,000,000,000: the limit is 1,024."),
        (["--technique", "warp"], "Unknown technique 'warp'. Known techniques:"),
        (["--technique", "lora:rank=4"], "lora has no setting rank. Its settings: r,"),
        (["--technique", "lora:r=0"], "lora.r is 0: use a rank of at least 1"),
        (["--country", "Atlantis"], "Unknown country 'Atlantis'"),
        (["--dataset", "nusax-senti/klingon"], "'nusax-senti' has no language 'klingon'. Languages:"),
        (
            ["--model", "m" * 300],
            "The model name has a part 300 characters long; a file or folder name has at most 255",
        ),
    ],
)
def test_a_bad_setting_is_one_error_line_exit_2_and_no_run(args, phrase, capsys):
    assert main(["train", *TINY, "--quiet", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and phrase in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert RunStore().list() == [], "an invalid config inserts no run"


def test_an_upload_with_thousands_of_classes_is_refused_in_words(tmp_path, capsys):
    path = tmp_path / "many.csv"
    path.write_text("text,label\n" + "".join(f"text {c} {i},class {c}\n" for c in range(3000) for i in range(5)))
    assert main(["train", *TINY, "--quiet", "--dataset", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: Column 'label' holds 3,000 different labels") and err.count("\n") == 1


def test_an_unexpected_error_names_the_log_that_holds_its_traceback(monkeypatch, capsys, isolated_home):
    def broken(_args):
        raise RuntimeError("something the lab did not foresee")

    monkeypatch.setattr("efficiency.cli.cmd_data", broken)
    assert main(["data", "list"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: unexpected RuntimeError: something the lab did not foresee")
    assert err.count("\n") == 1 and "Traceback" not in err
    (log,) = (isolated_home / "logs").iterdir()
    assert str(log) in err
    assert "Traceback" in log.read_text() and "in broken" in log.read_text()


def test_missing_dataset_and_malformed_upload(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("efficiency.data.download._open_url", lambda url: (_ for _ in ()).throw(OSError("offline")))
    assert main(["train", *TINY, "--quiet", "--data-dir", str(tmp_path)]) == 2
    assert "Provide the files" in capsys.readouterr().err
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"text,label\n" + "caf\xe9,pos\n".encode("latin-1") * 30)
    assert main(["train", *TINY, "--quiet", "--dataset", str(bad)]) == 2
    assert "not UTF-8" in capsys.readouterr().err


def test_data_list(capsys):
    assert main(["data", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert any(r["name"] == "mahasent-mr" and r["present"] for r in rows)


LONG_RUN = [
    "train",
    "--model",
    "tiny",
    "--dataset",
    "mahasent-mr",
    "--epochs",
    "5",
    "--quiet",
    "--latency-repeats",
    "1",
]


def start_long_run(store: RunStore, name: str, stdout: int = subprocess.DEVNULL) -> tuple[subprocess.Popen, object]:
    """A CLI run in a child process, returned once it is running and has taken two steps."""
    child = subprocess.Popen(
        [sys.executable, "-m", "efficiency", *LONG_RUN, "--name", name, "--json"],
        env=os.environ,
        stdout=stdout,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    deadline = time.time() + 120
    while time.time() < deadline:
        runs = [r for r in store.list() if r.name == name]
        if runs and runs[0].status == "running" and (runs[0].progress or {}).get("step", 0) >= 2:
            return child, runs[0]
        time.sleep(0.5)
    child.kill()
    raise AssertionError("the run never got going")


def test_sigkill_mid_training_marks_the_run_interrupted_and_keeps_the_others(capsys):
    assert main(["train", *TINY, "--quiet", "--name", "earlier"]) == 0
    capsys.readouterr()
    store = RunStore()
    earlier = store.list()[0]
    child, victim = start_long_run(store, "victim")
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert main(["runs", "list", "--json"]) == 0
    statuses = {r["name"]: r["status"] for r in json.loads(capsys.readouterr().out)}
    assert statuses == {"victim": "interrupted", "earlier": "finished"}
    assert store.get(earlier.id).metrics == earlier.metrics
    assert store.progress_of(victim.id)


def test_sigterm_stops_the_run_and_keeps_its_measurements():
    child, _ = start_long_run(RunStore(), "stopped by SIGTERM", stdout=subprocess.PIPE)
    child.send_signal(signal.SIGTERM)
    out, _ = child.communicate(timeout=120)
    assert child.returncode == 130
    payload = json.loads(out)
    assert payload["status"] == "stopped" and payload["stopped_at"] and payload["accuracy"] is not None


def test_every_help_page_renders():
    import argparse

    from efficiency.cli import build_parser

    def walk(parser: argparse.ArgumentParser) -> int:
        text = parser.format_help()
        assert text
        count = 1
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                count += sum(walk(sub) for sub in action.choices.values())
        return count

    assert walk(build_parser()) >= 10


def test_dropout_none_keeps_the_models_own():
    from efficiency.cli import build_parser, config_from_args

    args = build_parser().parse_args(["train", "--dropout", "none", "--technique", "distill:teacher=12"])
    config = config_from_args(args)
    assert config.train.dropout is None
    assert config.techniques[0].params == {"teacher": 12}
    from efficiency.techniques import build

    assert build(config).items[0].config.teacher == "12", "a run id typed as a number is accepted"


# --- predict: the sentence box's twin -------------------------------------------------------------------------------
def kept_baseline_run(store: RunStore) -> int:
    """A finished run whose TF-IDF pipeline is kept in the models folder (fitted here: no training run needed)."""
    from efficiency import baselines, paths
    from efficiency.config import ModelConfig, RunConfig
    from efficiency.data.splits import TextSplit

    texts, labels = ["apik banget", "seneng apik", "elek banget", "kuciwa elek"] * 3, [1, 1, 0, 0] * 3
    pipeline = baselines.fit(baselines.make_pipeline(seed=0), TextSplit(texts, labels))
    run_id = store.create_run(RunConfig(model=ModelConfig(name="tfidf-logreg")).to_dict(), status="running")
    folder = baselines.save(pipeline, ["negative", "positive"], paths.models_dir() / f"run-{run_id}")
    store.finish(run_id, "finished", metrics={}, model_path=folder)
    return run_id


def test_predict_prints_the_label_and_its_probabilities(capsys):
    run_id = kept_baseline_run(RunStore())
    assert main(["predict", str(run_id), "apik banget seneng"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"run {run_id}: positive"
    assert [line.split()[0] for line in lines[1:]] == ["positive", "negative"]  # highest first
    assert main(["predict", str(run_id), "elek kuciwa", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["run_id"] == run_id and payload["label"] == "negative"
    assert list(payload["probabilities"]) == ["negative", "positive"]
    assert sum(payload["probabilities"].values()) == pytest.approx(1.0)


def test_predict_refuses_a_pickled_model_with_the_older_format_message(capsys, tmp_path):
    from efficiency import paths
    from tests.conftest import pickle_payload

    store = RunStore()
    run_id = store.create_run({"model": {"name": "tfidf-logreg"}}, status="running")
    folder = paths.models_dir() / f"run-{run_id}"
    folder.mkdir()
    (folder / "pipeline.pkl").write_bytes(pickle_payload(tmp_path / "ran"))
    store.finish(run_id, "finished", metrics={}, model_path=str(folder))
    assert main(["predict", str(run_id), "apik"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "older format" in err and "Traceback" not in err
    assert not (tmp_path / "ran").exists()


@pytest.mark.parametrize("status, phrase", [(None, "no run"), ("finished", "did not keep its model")])
def test_predict_without_a_kept_model_says_why(capsys, status, phrase):
    store = RunStore()
    run_id = store.create_run({"model": {"name": "tiny"}}, status="running")
    if status:
        store.finish(run_id, status, metrics={})
    assert main(["predict", str(run_id if status else run_id + 1), "apik"]) == 2
    assert phrase in capsys.readouterr().err
