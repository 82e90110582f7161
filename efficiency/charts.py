"""Plotly figures for the app, built from stored runs; tested without a browser."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go

# Okabe-Ito: distinguishable with the common colour-vision deficiencies.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]


def loss_curve(
    points: Sequence[dict[str, Any]], valid: Sequence[dict[str, Any]] = (), title: str = "Training loss"
) -> go.Figure:
    """Loss per step (and validation loss per epoch, when there is any)."""
    figure = go.Figure()
    train = [p for p in points if p.get("loss") is not None and p.get("phase", "train") == "train"]
    figure.add_trace(
        go.Scatter(
            x=[p["step"] for p in train],
            y=[p["loss"] for p in train],
            mode="lines",
            name="train loss (per step)",
            line={"color": PALETTE[0]},
        )
    )
    if valid:
        figure.add_trace(
            go.Scatter(
                x=[v["step"] for v in valid],
                y=[v["loss"] for v in valid],
                mode="lines+markers",
                name="validation loss (per epoch)",
                line={"color": PALETTE[1], "dash": "dot"},
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
            x=list(labels),
            y=list(labels),
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
