"""Plotly figures for the app, built from stored runs; tested without a browser."""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go

from efficiency.label_placement import place_labels

# Okabe-Ito: distinguishable with the common colour-vision deficiencies.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]


def plain(text: object) -> str:
    """User text (a run name, a label) for a chart: Plotly reads <a href>, <b> and <br> in any text it draws."""
    return html.escape(str(text), quote=False)


def loss_curve(
    points: Sequence[dict[str, Any]], valid: Sequence[dict[str, Any]] = (), title: str = "Training loss"
) -> go.Figure:
    """Loss per step (and validation loss per epoch, when there is any)."""
    figure = go.Figure()
    traces = [
        ("train loss (per step)", [p for p in points if p.get("phase", "train") == "train"], {"color": PALETTE[0]}),
        ("teacher loss (distillation, first)", [p for p in points if p.get("phase") == "teacher"],
         {"color": PALETTE[2]}),
        ("validation loss (per epoch)", list(valid), {"color": PALETTE[1], "dash": "dot"}),
    ]  # fmt: skip
    for i, (name, shown, line) in enumerate(traces):
        shown = [p for p in shown if p.get("loss") is not None]
        if shown or i == 0:  # the training trace is always there, even empty, so the legend reads the same
            figure.add_trace(
                go.Scatter(
                    x=[p["step"] for p in shown],
                    y=[p["loss"] for p in shown],
                    mode="lines+markers" if "dash" in line else "lines",
                    name=name,
                    line=line,
                )
            )
    figure.update_layout(
        title=title,
        xaxis_title="optimiser step",
        yaxis_title="cross-entropy loss",
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        height=320,
        legend={"orientation": "h", "y": -0.25},
    )
    return figure


def confusion_matrix(matrix: Sequence[Sequence[int]], labels: Sequence[str]) -> go.Figure:
    figure = go.Figure(
        go.Heatmap(
            z=matrix,
            x=[plain(label) for label in labels],
            y=[plain(label) for label in labels],
            colorscale="Blues",
            text=matrix,
            texttemplate="%{text}",
            showscale=False,
        )
    )
    figure.update_layout(
        title="Confusion matrix (test split)",
        xaxis_title="predicted",
        yaxis_title="true label",
        yaxis={"autorange": "reversed"},
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        height=320,
    )
    return figure


# --- presentation ----------------------------------------------------------------------------------
GREY = "#B0B0B0"
CURVE_AXES = {
    "step": "optimiser step",
    "epoch": "epoch",
    "examples_seen": "training examples seen",
    "flops": "training FLOPs",
    "elapsed_s": "training time (s)",
}


PRESENTATION_TICK_PX = 20


def _sized(figure: go.Figure) -> bool:
    """A figure whose point labels were placed for its size (the frontier): styling must keep that size."""
    meta = figure.layout.meta
    return isinstance(meta, dict) and bool(meta.get("sized_for_labels"))


def styled(figure: go.Figure, presentation: bool = False) -> go.Figure:
    """Large type and thick lines for a projector; the default look otherwise."""
    if presentation:
        figure.update_layout(font={"size": 22}, title_font={"size": 28}, hoverlabel={"font": {"size": 20}})
        if not _sized(figure):  # a figure sized for its labels keeps its size
            figure.update_layout(height=max(figure.layout.height or 0, 560))
        # Set on each part too: Streamlit's chart theme gives ticks and legends sizes of their own.
        figure.update_xaxes(tickfont_size=PRESENTATION_TICK_PX, title_font_size=22)
        figure.update_yaxes(tickfont_size=PRESENTATION_TICK_PX, title_font_size=22)
        figure.update_layout(legend_font_size=20)
        figure.update_traces(selector={"type": "scatter"}, line_width=4)
    return figure


# --- experiment page -------------------------------------------------------------------------------
def token_lengths(lengths: Sequence[int], max_length: int) -> go.Figure:
    """Histogram of tokens per training text, with the truncation line drawn."""
    cut = sum(n > max_length for n in lengths)
    figure = go.Figure(go.Histogram(x=list(lengths), nbinsx=40, marker_color=PALETTE[0], name="texts"))
    figure.add_vline(
        x=max_length,
        line={"color": PALETTE[3], "dash": "dash", "width": 2},
        annotation_text=f"truncated at {max_length} ({cut} texts cut)",
        annotation_position="top right",
    )
    figure.update_layout(
        title="Tokens per training text",
        xaxis_title="tokens (with [CLS] and [SEP])",
        yaxis_title="texts",
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        height=300,
        showlegend=False,
        bargap=0.05,
    )
    return figure


def class_balance(counts: dict[str, dict[str, int]]) -> go.Figure:
    """Examples per label in each split: {split: {label: count}}."""
    figure = go.Figure()
    for i, (split, per_label) in enumerate(counts.items()):
        figure.add_trace(
            go.Bar(
                x=[plain(label) for label in per_label],
                y=list(per_label.values()),
                name=split,
                marker_color=PALETTE[i % len(PALETTE)],
            )
        )
    figure.update_layout(
        title="Class balance",
        barmode="group",
        yaxis_title="examples",
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        height=300,
        legend={"orientation": "h", "y": -0.2},
    )
    return figure


def prediction(probabilities: dict[str, float]) -> go.Figure:
    labels = list(probabilities)
    figure = go.Figure(
        go.Bar(
            x=[probabilities[k] for k in labels],
            y=[plain(label) for label in labels],
            orientation="h",
            marker_color=[PALETTE[0] if i == 0 else GREY for i in range(len(labels))],
            text=[f"{probabilities[k]:.0%}" for k in labels],
            textposition="auto",
        )
    )
    figure.update_layout(
        xaxis={"range": [0, 1], "tickformat": ".0%"},
        yaxis={"autorange": "reversed"},
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        height=60 + 40 * len(labels),
    )
    return figure


# --- compare page ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class FrontierLook:
    """The frontier chart's sizes: the figure's, its margins and its type, for a screen or a projector.

    `min_width_px` is the narrowest the figure is drawn at (the page's main column at 1280 pixels wide):
    the point labels are placed for it and stay apart at any greater width.
    """

    height_px: int
    min_width_px: int
    font_px: int
    margin: tuple[int, int, int, int]  # left, right, top, bottom (before the legend's rows)


LOOKS = {
    False: FrontierLook(height_px=480, min_width_px=600, font_px=12, margin=(70, 20, 50, 60)),
    True: FrontierLook(height_px=440, min_width_px=680, font_px=18, margin=(100, 24, 50, 84)),
}
MAX_MARKER_PX = 25


def frontier(
    points: Sequence[dict[str, Any]],
    x_title: str,
    y_title: str,
    log_x: bool = False,
    title: str = "",
    y_bounds: tuple[float, float] | None = None,
    presentation: bool = False,
) -> go.Figure:
    """Quality against cost: each point an experiment (seeds averaged, sd as error bars).

    A point is {label, x, y, x_sd, y_sd, n, on_front, hover}. Points on the Pareto frontier are
    coloured and joined by a step line; dominated ones are grey. Each point is named beside it, placed
    so that no two names overlap (label_placement.py). `y_bounds` keeps the y-axis within what the
    quality can be (0 to 1), where plotly would draw one point alone from 0.5 to 1.5.
    """
    look = LOOKS[presentation]
    figure = go.Figure()
    front = sorted((p for p in points if p["on_front"]), key=lambda p: p["x"])
    if len(front) > 1:
        figure.add_trace(_frontier_line(front))
    for on_front, name, colour in ((True, "on the frontier", PALETTE[0]), (False, "dominated", GREY)):
        chosen = [p for p in points if p["on_front"] == on_front]
        if chosen:
            figure.add_trace(_points(chosen, name, colour))
    # More room on the right: the dearest points' names need a place beside them too.
    x_range = _padded([v for p in points for v in _spread(p, "x")], log_x, room=(0.08, 0.2))
    if y_bounds is not None and points:
        y_range = bounded_range([v for p in points for v in _spread(p, "y")], y_bounds)
    else:
        y_range = _padded([v for p in points for v in _spread(p, "y")], False)
    numbered = _name_points(figure, points, x_range, y_range, log_x, look)
    left, right, top, bottom = look.margin
    legend_rows = 2 + len(numbered)  # the trace names may wrap to two rows; a numbered label has its own
    figure.update_layout(
        title=title,
        xaxis={"title": x_title, "type": "log" if log_x else "linear", "range": x_range, "automargin": False},
        yaxis={"title": y_title, "range": y_range, "automargin": False},
        # Fixed margins: the plot area must be where the labels were placed for.
        margin={
            "l": left,
            "r": right,
            "t": top,
            "b": bottom + int(legend_rows * look.font_px * 1.5),
            "autoexpand": False,
        },
        height=look.height_px + int(legend_rows * look.font_px * 1.5),
        legend={"orientation": "h", "y": -bottom / look.height_px, "yanchor": "top", "x": 0},
        meta={"sized_for_labels": True},
    )
    return figure


def _points(chosen: Sequence[dict[str, Any]], name: str, colour: str) -> go.Scatter:
    return go.Scatter(
        x=[p["x"] for p in chosen],
        y=[p["y"] for p in chosen],
        error_y={"type": "data", "array": [p.get("y_sd") or 0 for p in chosen], "visible": True},
        error_x={"type": "data", "array": [p.get("x_sd") or 0 for p in chosen], "visible": True},
        mode="markers",
        marker={
            "color": colour,
            "size": [10 + 3 * min(p.get("n", 1), 5) for p in chosen],  # at most MAX_MARKER_PX
            "line": {"color": "white", "width": 1},
        },
        hovertext=[p.get("hover", "") for p in chosen],
        hoverinfo="text",
        name=name,
    )


def _spread(point: dict[str, Any], axis: str) -> list[float]:
    """A point's value and the ends of its error bar."""
    sd = point.get(f"{axis}_sd") or 0
    return [point[axis] - sd, point[axis], point[axis] + sd]


def _padded(values: Sequence[float], log: bool, room: tuple[float, float] = (0.08, 0.08)) -> list[float]:
    """An axis range around `values` with some room before and after; in log10 units on a log axis."""
    if log:
        values = [math.log10(v) for v in values if v and v > 0]
    if not values:
        return [0.0, 1.0]
    low, high = min(values), max(values)
    span = (high - low) or (abs(high) or 1.0)
    return [low - span * room[0], high + span * room[1]]


def _name_points(
    figure: go.Figure,
    points: Sequence[dict[str, Any]],
    x_range: Sequence[float],
    y_range: Sequence[float],
    log_x: bool,
    look: FrontierLook,
) -> list[str]:
    """Each point's name as an annotation beside it; returns the names given a number instead."""
    left, right, top, bottom = look.margin
    width, height = look.min_width_px - left - right, look.height_px - top - bottom

    def share(value: float, axis_range: Sequence[float], log: bool) -> float:
        value = math.log10(value) if log and value > 0 else value
        return (value - axis_range[0]) / ((axis_range[1] - axis_range[0]) or 1.0)

    fractions = [(share(p["x"], x_range, log_x), share(p["y"], y_range, False)) for p in points]
    labels = place_labels(fractions, [p["label"] for p in points], width, height, look.font_px, MAX_MARKER_PX)
    numbered = []
    for label in labels:
        anchor = points[label.members[0]]
        text = str(label.number) if label.number else "<br>".join(plain(line) for line in label.lines)
        if label.number:
            numbered.append(f"{label.number}: " + "; ".join(label.lines))
        figure.add_annotation(
            x=math.log10(anchor["x"]) if log_x and anchor["x"] > 0 else anchor["x"],
            y=anchor["y"],
            text=text,
            showarrow=True,
            arrowhead=0,
            arrowwidth=1,
            arrowcolor=GREY if label.leader else "rgba(0,0,0,0)",  # a leader line only for a far label
            ax=label.dx_px,
            ay=label.dy_px,
            xanchor=label.x_side,
            yanchor=label.y_side,
            font={"size": look.font_px, "color": "#1f1f1f"},  # dark on white: it must read from the back row
            bgcolor="rgba(255,255,255,0.85)",
            name="point label",
        )
    for entry in numbered:  # the legend says what each number names
        figure.add_trace(
            go.Scatter(x=[None], y=[None], mode="markers", marker={"color": "rgba(0,0,0,0)"}, name=plain(entry))
        )
    return numbered


def _frontier_line(front: Sequence[dict[str, Any]]) -> go.Scatter:
    """The Pareto frontier as a dotted step line through its points, left to right."""
    return go.Scatter(
        x=[p["x"] for p in front],
        y=[p["y"] for p in front],
        mode="lines",
        line={"color": PALETTE[0], "shape": "hv", "dash": "dot", "width": 1.5},
        name="Pareto frontier",
        hoverinfo="skip",
    )


def bounded_range(values: Sequence[float], bounds: tuple[float, float], room: float = 0.05) -> list[float]:
    """An axis range around `values` with some room, never outside `bounds`."""
    low, high = bounds
    room = max(room, (max(values) - min(values)) * 0.1)
    start, end = min(values) - room, max(values) + room
    # A window that crosses a bound slides back inside, keeping its width where the bounds allow.
    if start < low:
        start, end = low, min(high, end + low - start)
    if end > high:
        start, end = max(low, start - (end - high)), high
    return [start, end]


def loss_overlay(curves: dict[str, Sequence[dict[str, Any]]], x_key: str = "step") -> go.Figure:
    """Training loss of several runs on one axis: step, epoch, examples seen, FLOPs or time."""
    figure = go.Figure()
    for i, (label, points) in enumerate(curves.items()):
        shown = [p for p in points if p.get("loss") is not None and p.get(x_key) is not None]
        figure.add_trace(
            go.Scatter(
                x=[p[x_key] for p in shown],
                y=[p["loss"] for p in shown],
                mode="lines",
                name=plain(label),
                line={"color": PALETTE[i % len(PALETTE)]},
            )
        )
    figure.update_layout(
        title="Training loss",
        xaxis_title=CURVE_AXES.get(x_key, x_key),
        yaxis_title="cross-entropy loss",
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        height=380,
        legend={"orientation": "h", "y": -0.2},
    )
    return figure


def reprice(frame: Any, highlight: str | None = None) -> go.Figure:
    """The same energy's CO2 under other countries' grids (a frame with country, co2_g, g_per_kwh)."""
    colours = [PALETTE[3] if c == highlight else PALETTE[2] for c in frame["country"]]
    figure = go.Figure(
        go.Bar(
            x=list(frame["co2_g"]),
            y=list(frame["country"]),
            orientation="h",
            marker_color=colours,
            text=[f"{g:.2g} g ({i:.0f} g/kWh)" for g, i in zip(frame["co2_g"], frame["g_per_kwh"], strict=True)],
            textposition="auto",
        )
    )
    figure.update_layout(
        title="The same energy on other grids",
        xaxis_title="g CO₂eq",
        yaxis={"autorange": "reversed"},
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        height=80 + 32 * len(frame),
    )
    return figure
