import numpy as np
import pytest
import torch

from efficiency import training
from efficiency.batching import EncodedSplit, batch_order, batches, collate, encode
from efficiency.config import DataConfig, TrainConfig
from efficiency.data import load_dataset
from efficiency.devices import resolve_device
from efficiency.errors import ConfigError
from efficiency.measure.flops import FlopMeter
from efficiency.measure.timer import PhaseTimer
from efficiency.models import load_classifier
from efficiency.techniques import Pipeline
from efficiency.techniques.amp import Amp
from efficiency.training import evaluate, time_steps, train
from tests.conftest import needs_shared_data


def padded_tokens(lengths, batches):
    return sum(len(b) * max(lengths[i] for i in b) for b in batches)


def test_batches_cover_every_example_once_and_buckets_pad_less():
    rng = np.random.default_rng(0)
    lengths = rng.integers(5, 128, size=1000).tolist()
    plain = batch_order(lengths, 16, np.random.default_rng(1), bucket=False)
    bucketed = batch_order(lengths, 16, np.random.default_rng(1), bucket=True)
    assert sorted(i for b in bucketed for i in b) == list(range(1000))
    assert padded_tokens(lengths, bucketed) < 0.7 * padded_tokens(lengths, plain)


def test_collate_pads_to_the_longest_in_the_batch():
    split = EncodedSplit([[101, 5, 102], [101, 102]], [0, 1], truncated=0)
    batch = collate(split, [0, 1], pad_id=0, device=torch.device("cpu"))
    assert batch["input_ids"].tolist() == [[101, 5, 102], [101, 102, 0]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 1, 0]]


def test_a_split_goes_to_the_device_once_and_its_batches_gather_from_there():
    split = EncodedSplit([[101, 5, 6, 102], [101, 102], [101, 7, 102]], [2, 0, 1], truncated=0)
    cpu = torch.device("cpu")
    assert split.on(cpu, 0) is split.on(cpu, 0)  # cached: built and sent once
    order = [[2, 1], [0]]
    got = list(batches(split, order, pad_id=0, device=cpu))
    assert [b["input_ids"].tolist() for b in got] == [[[101, 7, 102], [101, 102, 0]], [[101, 5, 6, 102]]]
    assert [b["attention_mask"].tolist() for b in got] == [[[1, 1, 1], [1, 1, 0]], [[1, 1, 1, 1]]]
    assert [b["labels"].tolist() for b in got] == [[1, 0], [2]]
    assert [b["index"].tolist() for b in got] == [[2, 1], [0]]
    assert [b["length"].tolist() for b in got] == [[3, 2], [4]]
    assert got[0]["input_ids"].dtype == torch.long


def test_explicit_missing_device_is_refused():
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(ConfigError, match="no CUDA GPU"):
        resolve_device("cuda")
    assert resolve_device("auto").type in {"cpu", "mps"}


@pytest.fixture(scope="module")
def tiny_setup():
    ds = load_dataset(DataConfig(dataset="nusax-senti/javanese", limit_train=96), seed=0)
    tok = load_classifier("tiny", ds.label_names, seed=0).tokenizer
    encoded = [encode(tok, s, 64) for s in (ds.train, ds.valid, ds.test)]
    return ds, tok, encoded


def run_tiny(tiny_setup, seed=3, **kw):
    ds, tok, encoded = tiny_setup
    model = load_classifier("tiny", ds.label_names, seed=seed).model
    cfg = TrainConfig(
        **{"epochs": 2, "batch_size": 16, **{k: v for k, v in kw.items() if k in TrainConfig.__dataclass_fields__}}
    )
    return train(
        model, *encoded, cfg=cfg, learning_rate=1e-3, seed=seed, device=torch.device("cpu"), pad_id=tok.pad_token_id,
        num_labels=3, timer=PhaseTimer(), flops=kw.get("flops"), should_stop=kw.get("should_stop"),
        techniques=kw.get("techniques"),
    )  # fmt: skip


pytestmark = needs_shared_data


def test_training_is_deterministic_on_cpu(tiny_setup):
    a, b = run_tiny(tiny_setup), run_tiny(tiny_setup)
    assert [p["loss"] for p in a.train_curve] == [p["loss"] for p in b.train_curve]
    assert a.test.predictions == b.test.predictions


def test_training_reduces_the_loss_and_validates_each_epoch(tiny_setup):
    out = run_tiny(tiny_setup, epochs=4)
    assert out.status == "finished"
    assert [v["epoch"] for v in out.valid_curve] == [1, 2, 3, 4]
    assert out.best_epoch in {1, 2, 3, 4}
    first = np.mean([p["loss"] for p in out.train_curve[:3]])
    last = np.mean([p["loss"] for p in out.train_curve[-3:]])
    assert last < first
    assert out.examples_seen == 4 * 96
    assert out.tokens_seen < out.padded_tokens


class FusedStep(Pipeline):
    """No technique, but the fused optimiser step: the engine's fused path alone."""

    def fused_optimizer(self, device: torch.device) -> bool:
        return True


def test_the_optimiser_steps_fused_only_where_a_technique_asks(tiny_setup, monkeypatch):
    kernels = []

    class SpiedAdamW(torch.optim.AdamW):
        def __init__(self, params, **kwargs):
            kernels.append({k: kwargs[k] for k in ("foreach", "fused") if k in kwargs})
            super().__init__(params, **kwargs)

    monkeypatch.setattr(torch.optim, "AdamW", SpiedAdamW)
    ds, tok, encoded = tiny_setup
    small = (ds, tok, [EncodedSplit(e.ids[:48], e.labels[:48], 0) for e in encoded])  # 3 steps an epoch
    foreach, fused = run_tiny(small), run_tiny(small, techniques=FusedStep([]))
    assert kernels == [{"foreach": True}, {"fused": True}], "without a technique asking, the foreach step as ever"
    # The same update in one pass: the same schedule and weight decay, rounding apart.
    assert [p["loss"] for p in fused.train_curve] == pytest.approx([p["loss"] for p in foreach.train_curve], abs=1e-4)
    assert fused.test.predictions == foreach.test.predictions


def test_amp_asks_for_the_fused_step_on_a_cpu_only():
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    assert Pipeline([Amp({"allow_emulated": True})]).fused_optimizer(cpu)
    assert not Pipeline([Amp({"allow_emulated": True, "fused_adamw": False})]).fused_optimizer(cpu)
    assert not Pipeline([Amp({"dtype": "fp16"})]).fused_optimizer(cuda), "on CUDA amp steps as before"
    assert not Pipeline([]).fused_optimizer(cpu)


def test_a_stop_ends_the_run_and_still_tests_the_model(tiny_setup):
    calls = {"n": 0}

    def stop_after_8_steps():
        calls["n"] += 1
        return calls["n"] > 8

    out = run_tiny(tiny_setup, epochs=3, should_stop=stop_after_8_steps)
    assert out.status == "stopped"
    assert out.steps == 8
    assert "step 8 of 18" in out.stopped_at
    assert out.test is not None and 0 <= out.test.accuracy <= 1
    assert out.valid_curve and out.valid_curve[-1]["epoch"] == 1  # epoch 1 (6 steps) was finished and validated


def test_time_limit_stops_training(tiny_setup):
    out = run_tiny(tiny_setup, epochs=50, time_limit_s=0.5)
    assert out.status == "stopped" and "time limit" in out.stop_reason
    assert out.steps < 50 * 6


def test_flops_counted_per_step_add_up(tiny_setup):
    meter = FlopMeter()
    out = run_tiny(tiny_setup, flops=meter)
    assert meter.probes >= 2
    assert meter.totals["train_backward"] > meter.totals["train_forward"] > 0
    assert out.train_curve[-1]["flops"] == pytest.approx(meter.train_flops)


def test_evaluation_builds_no_autograd_graph(tiny_setup):
    ds, tok, encoded = tiny_setup
    model = load_classifier("tiny", ds.label_names, seed=0).model
    seen = []
    model.register_forward_hook(lambda _m, _i, out: seen.append(out.logits.requires_grad))
    evaluate(model, encoded[2], 64, tok.pad_token_id, torch.device("cpu"), 3)
    assert seen and not any(seen), "evaluation must run without gradients (memory, time)"


def test_timed_steps_run_backward_and_leave_the_weights_as_they_were(tiny_setup):
    ds, tok, encoded = tiny_setup
    model = load_classifier("tiny", ds.label_names, seed=0).model
    for name, parameter in model.named_parameters():
        parameter.requires_grad = name.startswith("classifier")  # as after a merged adapter: only the head trains
    reached = []
    model.bert.encoder.layer[0].register_full_backward_hook(lambda *_: reached.append(True))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    fp32 = time_steps(model, encoded[0], 16, tok.pad_token_id, torch.device("cpu"), None, steps=2)
    bf16 = time_steps(model, encoded[0], 16, tok.pad_token_id, torch.device("cpu"), torch.bfloat16, steps=2)
    assert fp32["step_ms"] > 0 and bf16["step_ms"] > 0
    assert reached, "the backward pass ran through the first layer, as in training"
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert all(p.grad is None for p in model.parameters())


def test_losses_read_every_few_steps_give_the_same_curve_and_progress(tiny_setup, monkeypatch):
    each = run_tiny(tiny_setup)
    seen = []
    monkeypatch.setattr(training, "loss_read_every", lambda device: 5)  # as on a GPU: read in groups
    ds, tok, encoded = tiny_setup
    model = load_classifier("tiny", ds.label_names, seed=3).model
    grouped = train(model, *encoded, cfg=TrainConfig(epochs=2, batch_size=16), learning_rate=1e-3, seed=3,
                    device=torch.device("cpu"), pad_id=tok.pad_token_id, num_labels=3, timer=PhaseTimer(),
                    on_progress=seen.append)  # fmt: skip
    assert [p["loss"] for p in grouped.train_curve] == [p["loss"] for p in each.train_curve]
    steps_per_epoch = len(each.train_curve) // 2
    expected = [("train", s) for s in range(1, steps_per_epoch + 1)] + [("validate", steps_per_epoch)]
    expected += [("train", s) for s in range(steps_per_epoch + 1, 2 * steps_per_epoch + 1)]
    assert [(p.phase, p.step) for p in seen] == [*expected, ("validate", 2 * steps_per_epoch)]
    assert all(p.loss is not None for p in seen)


def test_a_stop_between_loss_reads_keeps_every_step(tiny_setup, monkeypatch):
    monkeypatch.setattr(training, "loss_read_every", lambda device: 4)
    calls = iter(range(100))
    out = run_tiny(tiny_setup, should_stop=lambda: next(calls) >= 6)
    assert out.status == "stopped"
    assert [p["step"] for p in out.train_curve] == [1, 2, 3, 4, 5, 6]
    assert all(p["loss"] is not None for p in out.train_curve)


def test_the_best_epoch_keeps_and_restores_only_the_weights_that_train():
    model = load_classifier("tiny", ["a", "b", "c"], seed=0).model
    for name, param in model.named_parameters():
        param.requires_grad_(name.startswith("classifier"))
    saved = training.trained_weights(model)
    assert set(saved) == {"classifier.weight", "classifier.bias"}  # a frozen (or quantized) base is not copied
    with torch.no_grad():
        model.classifier.weight.add_(1.0)
    training.restore_weights(model, saved)
    assert torch.equal(model.classifier.weight, saved["classifier.weight"])


def test_evaluation_predictions_line_up_with_the_examples(tiny_setup):
    ds, tok, encoded = tiny_setup
    model = load_classifier("tiny", ds.label_names, seed=5).model.eval()
    test = encoded[2]
    result = evaluate(model, test, 8, tok.pad_token_id, torch.device("cpu"), 3)  # batched in length order
    with torch.no_grad():
        one_by_one = [int(model(input_ids=torch.tensor([ids])).logits.argmax(-1)) for ids in test.ids[:40]]
    assert result.predictions[:40] == one_by_one
