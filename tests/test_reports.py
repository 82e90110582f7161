"""Technique reports as tables a person reads: names, formats, before/after ratios, multistage counts."""

from __future__ import annotations

import pytest

from efficiency import reports


def test_facts_name_the_figures_and_format_them():
    report = {
        "config": {"sparsity": 0.5, "method": "magnitude", "target_modules": ["query", "value"]},
        "sparsity_reached": 0.4996,
        "pruned_weights": 1234567,
        "merged": True,
        "teacher": {"source": "trained in this job", "accuracy": 0.6125},
        "layers_kept": [0, 2, 4],
    }
    rows = dict(zip(reports.facts(report)["what"], reports.facts(report)["value"], strict=True))
    assert rows["sparsity reached"] == "50.0%"
    assert rows["weights set to zero"] == "1,234,567"
    assert rows["adapter merged into the weights"] == "yes"
    assert rows["teacher: test accuracy"] == "0.613"
    assert rows["layers kept"] == "0, 2, 4"
    assert "config" not in " ".join(rows), "settings are shown apart, in one line"
    assert reports.settings_line(report) == "sparsity=0.5, method=magnitude, target_modules=query+value"


def test_before_and_after_come_with_their_ratio_and_labels():
    report = {
        "before_label": "fp32",
        "after_label": "bf16 autocast",
        "before": {"step_ms": 200.0, "accuracy": 0.7},
        "after": {"step_ms": 80.0, "accuracy": 0.7, "only_after": 1.0},
    }
    table = reports.before_after(report)
    assert list(table.columns) == ["figure", "fp32", "bf16 autocast", "after / before"]
    step = table.set_index("figure").loc["one training step, forward + backward (ms)"]
    assert step["after / before"] == pytest.approx(0.4)
    assert len(table) == 2, "only figures measured on both sides"
    assert reports.before_after({"bits": 8}) is None


def test_multistage_counts_add_up_per_stage_and_in_all():
    report = {
        "stages": {
            "stage0": {"examples": 100, "forward": 100, "backward": 100, "forward_skipped": 0},
            "stage1": {"examples": 200, "forward": 260, "backward": 60, "forward_skipped": 0},
            "stage2": {"examples": 200, "forward": 90, "backward": 30, "forward_skipped": 140},
        }
    }
    table = reports.stages(report).set_index("stage")
    assert table.loc["all stages", "examples offered"] == 500
    assert table.loc["all stages", "backward passes saved"] == 500 - 190
    assert table.loc["stage2", "forward passes skipped"] == 140
    assert reports.stages({}) is None
