import torch
from torch.utils.flop_counter import FlopCounterMode

from efficiency.batching import mean_loss
from efficiency.measure.flops import FlopMeter, spread_picks
from efficiency.models import load_classifier


def batch(b, t):
    return {
        "input_ids": torch.randint(1000, 2000, (b, t)),
        "attention_mask": torch.ones(b, t, dtype=torch.long),
        "labels": torch.zeros(b, dtype=torch.long),
    }


def test_fit_predicts_the_exact_count_of_an_unseen_shape():
    model = load_classifier("tiny", ["a", "b"], seed=0).model.train()
    meter = FlopMeter()
    meter.calibrate(model, [batch(4, 8), batch(2, 40), batch(3, 100), batch(1, 17)], mean_loss)
    assert all(p.grad is None for p in model.parameters())  # the probes leave no gradients behind
    probe = batch(5, 63)
    with FlopCounterMode(display=False) as counter:
        loss = mean_loss(model, probe)
    exact_forward = counter.get_total_flops()
    with FlopCounterMode(display=False) as counter:
        loss.backward()
    exact_backward = counter.get_total_flops()
    assert abs(meter.forward(5, 63) - exact_forward) / exact_forward < 0.01
    assert abs(meter.backward(5, 63) - exact_backward) / exact_backward < 0.01


def test_skipped_backward_counts_forward_only():
    meter = FlopMeter()
    meter.forward_coef[:] = [10.0, 0.0, 0.0]
    meter.backward_coef[:] = [20.0, 0.0, 0.0]
    assert meter.add_train_step(2, 3) == 60 + 120
    assert meter.add_train_step(2, 3, ran_backward=False) == 60
    assert meter.totals == {"train_forward": 120.0, "train_backward": 120.0, "eval_forward": 0.0}


def test_spread_picks_takes_short_middle_and_long():
    assert spread_picks([50, 10, 30, 90, 70], count=3) == [1, 0, 3]  # 10, the median 50, 90
    assert spread_picks([5]) == [0]
