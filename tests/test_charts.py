"""Figures built without a browser: what each one must show."""

from __future__ import annotations

from efficiency import charts


def test_frontier_greys_dominated_points_and_draws_the_front_as_steps():
    points = [
        {"label": "full", "x": 60, "y": 0.70, "y_sd": 0.02, "n": 3, "on_front": True, "hover": "h"},
        {"label": "lora", "x": 30, "y": 0.68, "n": 1, "on_front": True},
        {"label": "probe", "x": 40, "y": 0.60, "n": 1, "on_front": False},
    ]
    figure = charts.frontier(points, "train s", "accuracy", log_x=True)
    names = [t.name for t in figure.data]
    assert names == ["Pareto frontier", "on the frontier", "dominated"]
    front, good, grey = figure.data
    assert list(front.x) == [30, 60] and front.line.shape == "hv"
    assert grey.marker.color == charts.GREY
    assert sorted(a.text for a in figure.layout.annotations) == ["full", "lora", "probe"]  # each named beside it
    assert list(good.error_y.array) == [0.02, 0]
    assert figure.layout.xaxis.type == "log"


def test_frontier_labels_stay_inside_the_plot_and_edge_labels_lean_inwards():
    points = [
        {"label": label, "x": x, "y": 0.5, "n": 1, "on_front": False}
        for label, x in (("cheap", 1.0), ("middle", 50.0), ("the dearest point, named at some length", 100.0))
    ]
    figure = charts.frontier(points, "train s", "accuracy")
    dear = next(a for a in figure.layout.annotations if a.text.startswith("the dearest"))
    assert dear.ax < 0 and dear.xanchor == "right"  # no room on the right: named on its left
    assert figure.layout.margin.autoexpand is False  # the plot area is where the labels were placed for


def test_frontier_names_coinciding_points_once_and_escapes_their_names():
    points = [
        {"label": "Full fine-tuning", "x": 60, "y": 0.70, "n": 1, "on_front": True},
        {"label": "int8 after training", "x": 60, "y": 0.70, "n": 1, "on_front": False},
        {"label": "<b>x</b>", "x": 10, "y": 0.5, "n": 1, "on_front": True},
    ]
    texts = sorted(a.text for a in charts.frontier(points, "train s", "accuracy").layout.annotations)
    assert texts == ["&lt;b&gt;x&lt;/b&gt;", "Full fine-tuning<br>int8 after training"]


def test_presentation_frontier_labels_are_large_and_its_size_is_kept():
    points = [{"label": "LoRA r=8", "x": 30, "y": 0.68, "n": 1, "on_front": True}]
    figure = charts.styled(charts.frontier(points, "s", "accuracy", presentation=True), presentation=True)
    assert min(a.font.size for a in figure.layout.annotations) >= 16
    assert figure.layout.xaxis.tickfont.size >= 16 and figure.layout.legend.font.size >= 16
    assert figure.layout.height == charts.frontier(points, "s", "accuracy", presentation=True).layout.height


def test_token_histogram_marks_the_truncation_line():
    figure = charts.token_lengths([10, 20, 200, 300], 128)
    line = figure.layout.shapes[0]
    assert line.x0 == 128 and line.x1 == 128
    assert "2 texts cut" in figure.layout.annotations[0].text


def test_loss_overlay_uses_the_chosen_axis():
    curves = {"a": [{"step": 1, "flops": 1e9, "loss": 1.0}], "b": [{"step": 1, "flops": 5e8, "loss": 0.9}]}
    figure = charts.loss_overlay(curves, "flops")
    assert [list(t.x) for t in figure.data] == [[1e9], [5e8]]
    assert figure.layout.xaxis.title.text == "training FLOPs"


def test_presentation_style_enlarges_type():
    figure = charts.styled(charts.loss_curve([{"step": 1, "loss": 1.0}]), presentation=True)
    assert figure.layout.font.size == 22 and figure.layout.height >= 560
    plain = charts.styled(charts.loss_curve([{"step": 1, "loss": 1.0}]), presentation=False)
    assert plain.layout.font.size is None


def test_prediction_bar_highlights_the_winner():
    figure = charts.prediction({"positive": 0.7, "neutral": 0.2, "negative": 0.1})
    assert list(figure.data[0].y) == ["positive", "neutral", "negative"]
    assert figure.data[0].marker.color[0] == charts.PALETTE[0]
