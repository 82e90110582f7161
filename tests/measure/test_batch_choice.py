import pytest
import torch

from efficiency.batching import EncodedSplit
from efficiency.errors import ConfigError
from efficiency.measure import batch_choice
from efficiency.models import load_classifier

# Rates shaped like the H200's (README): fp32 launch-bound up to 64, bf16 slower at small batches, faster at large.
H200_LIKE = [
    *({"dtype": "fp32", "batch_size": b, "examples_per_s": r} for b, r in
      [(16, 1350), (32, 2700), (64, 5150), (128, 7700), (256, 8200), (512, 8800)]),
    *({"dtype": "bf16", "batch_size": b, "examples_per_s": r} for b, r in
      [(16, 860), (32, 1600), (64, 3500), (128, 7800), (256, 15600), (512, 27300)]),
]  # fmt: skip


def test_a_large_dataset_gets_the_fast_precision_at_the_largest_batch_that_keeps_enough_steps():
    choice = batch_choice.choose(H200_LIKE, examples=12_000)  # 512 would leave 23 steps an epoch
    assert (choice.batch_size, choice.dtype) == (256, "bf16")
    assert choice.techniques == ["amp:dtype=bf16"]
    assert "bf16 at batch 256" in choice.reason and "up to 256" in choice.reason


def test_a_small_dataset_keeps_a_small_batch_and_the_precision_fastest_there():
    choice = batch_choice.choose(H200_LIKE, examples=500)
    assert (choice.batch_size, choice.dtype) == (16, "fp32")
    assert choice.techniques == []


def test_the_knee_is_the_smallest_batch_near_the_best_rate():
    flat = [{"dtype": "fp32", "batch_size": b, "examples_per_s": r} for b, r in [(16, 500), (32, 950), (64, 1000)]]
    assert batch_choice.choose(flat, examples=10**6).batch_size == 32  # 950 is within 90% of 1000


def test_batches_out_of_memory_are_left_out():
    rows = [*H200_LIKE, {"dtype": "bf16", "batch_size": 1024, "error": "out of memory"}]
    assert batch_choice.choose(rows, examples=10**6).batch_size == 512


def test_the_largest_useful_batch_leaves_enough_steps():
    assert batch_choice.largest_useful(12_000) == 256
    assert batch_choice.largest_useful(100) == 16  # none leaves 32 steps: the smallest


def test_measuring_times_real_steps_of_the_model():
    model = load_classifier("tiny", ["a", "b", "c"], seed=0).model
    split = EncodedSplit([[101, 5, 6, 102], [101, 7, 102], [101, 8, 9, 10, 102], [101, 102]], [0, 1, 2, 0], 0)
    rows = batch_choice.measure(model, split, 0, torch.device("cpu"), sizes=(2, 4), dtypes=("fp32",), steps=1)
    assert [(r["dtype"], r["batch_size"]) for r in rows] == [("fp32", 2), ("fp32", 4)]
    assert all(r["step_ms"] > 0 and r["examples_per_s"] > 0 for r in rows)


def test_every_batch_out_of_memory_is_a_plain_message():
    rows = [{"dtype": "fp32", "batch_size": b, "error": "out of memory"} for b in (16, 32)]
    with pytest.raises(ConfigError, match="even the smallest ran out of memory"):
        batch_choice.choose(rows, examples=10**6)
