"""The figure catalogue: every reader's labels, units and formats come from one row per figure."""

from __future__ import annotations

import pytest

from efficiency.figures import FIGURES, costs, figure, human, qualities, scientific, shown, text

# What the result card (ui.CARD) and Compare (QUALITY, COSTS) named each figure before the catalogue.
CARD_LABELS = {
    "accuracy": "Accuracy",
    "macro_f1": "Macro-F1",
    "train_wall_s": "Training time",
    "train_flops": "Training FLOPs",
    "energy_kwh": "Energy",
    "co2_kg": "CO₂eq",
    "peak_memory_mb": "Peak memory",
    "trainable_params": "Trainable parameters",
    "model_size_mb": "Model size",
    "latency_ms_b1": "Latency per example, batch 1",
    "latency_ms_b32": "Latency per example, batch 32",
}
AXIS_TITLES = {
    "accuracy": "Accuracy",
    "macro_f1": "Macro-F1",
    "train_wall_s": "Training time (s)",
    "train_flops": "Training FLOPs",
    "energy_kwh": "Energy (Wh)",
    "co2_kg": "CO₂eq (g)",
    "peak_memory_mb": "Peak memory (MiB)",
    "trainable_params": "Trainable parameters",
    "model_size_mb": "Model size (MiB)",
    "latency_ms_b1": "Latency, batch 1 (ms/example)",
}


def test_every_figure_the_card_and_compare_named_keeps_its_label_and_unit():
    card = [f.key for f in FIGURES if f.on_card]
    assert [k for k in card if k in CARD_LABELS] == list(CARD_LABELS)  # the card's order is kept
    assert {k: figure(k).label for k in CARD_LABELS} == CARD_LABELS
    assert {k: figure(k).axis_title for k in AXIS_TITLES} == AXIS_TITLES
    assert [f.key for f in qualities()] == ["accuracy", "macro_f1"]
    assert figure("energy_kwh").unit == "Wh" and figure("co2_kg").unit == "g"
    assert len({f.key for f in FIGURES}) == len(FIGURES)


def test_energy_and_co2_are_shown_in_wh_and_g():
    assert figure("energy_kwh").scale == 1000.0
    assert shown("energy_kwh", 0.00012) == pytest.approx(0.12)
    assert shown("co2_kg", 0.002) == pytest.approx(2.0)
    assert shown("train_wall_s", 12.0) == 12.0
    assert shown("train_eval_wall_s", 7.0) == 7.0  # a key outside the catalogue passes unchanged
    assert shown("energy_kwh", None) is None
    assert isinstance(shown("trainable_params", 1234), int)  # no '1,234.0' for a count


def test_text_is_what_the_result_card_wrote():
    assert text("accuracy", 0.8123) == "81.2%"
    assert text("macro_f1", 0.75) == "0.750"
    assert text("train_wall_s", 12.345) == "12.3 s"
    assert text("train_flops", 5.5e12) == "5.5 × 10¹²"
    assert text("train_flops", 1234.0) == "1,234"
    assert text("energy_kwh", 0.000123) == "0.12 Wh"
    assert text("energy_kwh", 0.15) == "150 Wh"
    assert text("co2_kg", 0.0000456) == "0.046 g"
    assert text("peak_memory_mb", 1234.4) == "1234 MiB"
    assert text("trainable_params", 1234567) == "1,234,567"
    assert text("model_size_mb", 255.67) == "255.7 MiB"
    assert text("latency_ms_b1", 3.21) == "3.2 ms"
    assert text("latency_ms_b32", 0.456) == "0.46 ms"
    assert text("energy_kwh", None) == "–"


def test_formatting_helpers():
    assert (human(0.0123), human(150.4), human(1234.6)) == ("0.012", "150", "1,235")
    assert scientific(0) == "0" and scientific(3.2e-7) == "0"
    assert scientific(1.23e15) == "1.2 × 10¹⁵"


def test_seed_varying_flags():
    varying = {"accuracy", "macro_f1", "train_wall_s", "eval_wall_s", "energy_kwh", "co2_kg", "peak_memory_mb",
               "cuda_peak_memory_mb", "latency_ms_b1", "latency_ms_b32"}  # fmt: skip
    fixed = {"train_flops", "total_params", "trainable_params", "model_size_mb"}
    assert {f.key for f in FIGURES if f.varies_by_seed} == varying
    assert {f.key for f in FIGURES if not f.varies_by_seed} == fixed


def test_kinds_quality_and_log_defaults():
    assert {f.kind for f in FIGURES} <= {"measured", "counted", "estimated"}
    assert figure("train_flops").kind == "counted" and figure("co2_kg").kind == "estimated"
    assert figure("energy_kwh").kind == "estimated" and figure("latency_ms_b1").kind == "measured"
    assert all(f.quality == (f.key in ("accuracy", "macro_f1")) for f in FIGURES)
    assert {f.key for f in costs() if f.axis_scale == "log"} == {"train_flops", "energy_kwh", "co2_kg",
                                                                 "trainable_params"}  # fmt: skip


def test_gpu_peak_memory_is_one_row_and_a_compare_cost_axis():
    gpu = figure("cuda_peak_memory_mb")
    assert gpu in costs() and gpu.axis_title == "GPU peak memory (MiB)"
    assert text("cuda_peak_memory_mb", 812.4) == "812 MiB"
    assert [f.key for f in costs()][-4:] == ["cuda_peak_memory_mb", "trainable_params", "model_size_mb",
                                             "latency_ms_b1"]  # fmt: skip


def test_quality_figures_are_bounded_to_zero_one():
    for f in qualities():
        assert f.axis_range == (0.0, 1.0)
    assert all(f.axis_range is None for f in costs())


def test_the_cli_card_prints_stored_figures_as_before():
    from efficiency.cli import format_result

    summary = {
        "run_id": 3, "status": "finished", "model": "tiny", "dataset": "d", "device": "cpu", "accuracy": 0.8123,
        "macro_f1": 0.75, "train_wall_s": 12.345, "eval_wall_s": 1.25, "train_flops": 5.5e12, "energy_kwh": 0.000123,
        "co2_kg": 4.56e-5, "peak_memory_mb": 1234.4, "total_params": 4386178, "trainable_params": 1234567,
        "model_size_mb": 255.67, "latency_ms_b1": 3.21, "latency_ms_b32": None, "energy_method": "x",
    }  # fmt: skip
    assert format_result(summary, {"accuracy": {"kind": "measured"}}).splitlines() == [
        "run 3: finished  tiny on d (cpu)",
        "  accuracy                  0.812             measured",
        "  macro_f1                  0.750             ",
        "  train_wall_s               12.3 s           ",
        "  eval_wall_s                 1.2 s           ",
        "  train_flops             5.5e+12 FLOPs       ",
        "  energy_kwh             0.000123 kWh         ",
        "  co2_kg                 4.56e-05 kg CO2eq    ",
        "  peak_memory_mb             1234 MiB         ",
        "  total_params          4,386,178             ",
        "  trainable_params      1,234,567             ",
        "  model_size_mb             255.7 MiB         ",
        "  latency_ms_b1              3.21 ms/example  ",
        "  latency_ms_b32                - ms/example  ",
        "  energy method: x",
    ]


def test_csv_export_has_every_catalogue_column_in_its_order():
    import csv
    import io

    from efficiency.compare import export_runs
    from efficiency.store import RunRecord

    record = RunRecord(
        id=1, name="r", note="", status="finished", model="tiny", dataset="d", device="cpu", created_at=0.0,
        started_at=None, finished_at=None, heartbeat_at=None, host=None, pid=None, pid_started_at=None,
        stop_requested=False, config={"seed": 1}, metrics={"energy_method": "x", "accuracy": 0.5},
    )  # fmt: skip
    rows = list(csv.reader(io.StringIO(export_runs([record], "csv"))))
    figure_columns = [f.key for f in FIGURES]
    assert rows[0][8 : 8 + len(figure_columns)] == figure_columns  # after the run's identity (with its owner's name)
    assert rows[0][-2:] == ["energy_method", "config"]  # other scalars follow, in stored units
    assert rows[1][8:10] == ["0.5", ""]


def _frontier_y_range(ys, sds=None):
    from efficiency import charts

    sds = sds or [None] * len(ys)
    points = [{"label": f"p{i}", "x": 1.0 + i, "y": y, "y_sd": sd, "n": 1, "on_front": True}
              for i, (y, sd) in enumerate(zip(ys, sds, strict=True))]  # fmt: skip
    layout = charts.frontier(points, "Energy (Wh)", "Accuracy", y_bounds=figure("accuracy").axis_range).layout
    return list(layout.yaxis.range)


def test_a_quality_axis_never_leaves_zero_to_one():
    # One run alone: plotly's own autorange drew accuracy 1.0 on an axis from 0.5 to 1.5.
    low, high = _frontier_y_range([1.0])
    assert 0.0 <= low < 1.0 and high == 1.0
    assert _frontier_y_range([0.0]) == pytest.approx([0.0, 0.1])
    low, high = _frontier_y_range([0.5])
    assert 0.0 < low < 0.5 < high < 1.0  # a lone middling run keeps a close-up view
    assert _frontier_y_range([0.02, 0.98]) == [0.0, 1.0]
    low, high = _frontier_y_range([0.97, 0.99], sds=[0.03, 0.02])  # error bars reach past 1
    assert 0.0 <= low < 0.94 and high == 1.0


def test_without_bounds_an_axis_is_padded_around_the_points_not_forced_to_zero_to_one():
    from efficiency import charts

    point = {"label": "p", "x": 1.0, "y": 0.8, "n": 1, "on_front": True}
    low, high = charts.frontier([point], "Energy (Wh)", "Accuracy").layout.yaxis.range
    assert 0.0 < low < 0.8 < high < 1.0  # set explicitly: the point labels are placed for this range
