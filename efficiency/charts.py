"""Plotly figures for the app, built from stored runs; tested without a browser."""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go

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


def styled(figure: go.Figure, presentation: bool = False) -> go.Figure:
    """Large type and thick lines for a projector; the default look otherwise."""
    if presentation:
        figure.update_layout(font={"size": 22}, title_font={"size": 28}, height=max(figure.layout.height or 0, 560))
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
def frontier(
    points: Sequence[dict[str, Any]],
    x_title: str,
    y_title: str,
    log_x: bool = False,
    title: str = "",
    y_bounds: tuple[float, float] | None = None,
) -> go.Figure:
    """Quality against cost: each point an experiment (seeds averaged, sd as error bars).

    A point is {label, x, y, x_sd, y_sd, n, on_front, hover}. Points on the Pareto frontier are
    coloured and joined by a step line; dominated ones are grey. `y_bounds` keeps the y-axis within
    what the quality can be (0 to 1), where plotly would draw one point alone from 0.5 to 1.5.
    """
    figure = go.Figure()
    leaning = dict(zip(map(id, points), _label_positions([p["x"] for p in points], log_x), strict=True))
    front = sorted((p for p in points if p["on_front"]), key=lambda p: p["x"])
    if len(front) > 1:
        figure.add_trace(_frontier_line(front))
    for on_front, name, colour in ((True, "on the frontier", PALETTE[0]), (False, "dominated", GREY)):
        chosen = [p for p in points if p["on_front"] == on_front]
        if not chosen:
            continue
        figure.add_trace(
            go.Scatter(
                x=[p["x"] for p in chosen],
                y=[p["y"] for p in chosen],
                error_y={"type": "data", "array": [p.get("y_sd") or 0 for p in chosen], "visible": True},
                error_x={"type": "data", "array": [p.get("x_sd") or 0 for p in chosen], "visible": True},
                mode="markers+text",
                text=[plain(p["label"]) for p in chosen],
                textposition=[leaning[id(p)] for p in chosen],
                marker={
                    "color": colour,
                    "size": [10 + 3 * min(p.get("n", 1), 5) for p in chosen],
                    "line": {"color": "white", "width": 1},
                },
                hovertext=[p.get("hover", "") for p in chosen],
                hoverinfo="text",
                cliponaxis=False,  # a label at the plot's edge stays whole
                name=name,
            )
        )
    figure.update_layout(
        title=title,
        xaxis_title=x_title,
        yaxis_title=y_title,
        xaxis_type="log" if log_x else "linear",
        margin={"l": 60, "r": 60, "t": 60, "b": 10},
        height=480,
        legend={"orientation": "h", "y": -0.15},
    )
    if y_bounds is not None and points:
        spread = [p["y"] + sign * (p.get("y_sd") or 0) for p in points for sign in (-1, 1)]
        figure.update_yaxes(range=bounded_range(spread, y_bounds))
    return figure


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


def _label_positions(xs: Sequence[float], log_x: bool) -> list[str]:
    """Labels lean inwards: a point near the right edge is labelled on its left, so no label is cut off."""
    values = [math.log10(x) if log_x and x and x > 0 else x for x in xs]
    known = [v for v in values if v is not None]
    if len(known) < 2 or max(known) == min(known):
        return ["top center"] * len(xs)
    low, span = min(known), max(known) - min(known)
    positions = []
    for v in values:
        share = 0.5 if v is None else (v - low) / span
        positions.append("top left" if share > 0.7 else "top right" if share < 0.3 else "top center")
    return positions


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
