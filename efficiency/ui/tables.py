"""Tables of runs: the home page's latest runs."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from efficiency.figures import figure
from efficiency.ui.resources import get_store


def latest_runs(limit: int = 10) -> None:
    records = get_store().list(limit=limit)
    if not records:
        st.caption("No runs yet: press the demo button, or build an experiment.")
        return
    frame = pd.DataFrame([r.summary() for r in records])
    frame["created_at"] = pd.to_datetime(frame["created_at"], unit="s").dt.strftime("%Y-%m-%d %H:%M")
    frame["open"] = [f"/?run={i}" for i in frame["run_id"]]
    frame["energy_kwh"] = pd.to_numeric(frame["energy_kwh"], errors="coerce") * figure("energy_kwh").scale  # Wh
    st.dataframe(
        frame[["run_id", "name", "status", "accuracy", "macro_f1", "train_wall_s", "energy_kwh", "created_at", "open"]],
        hide_index=True,
        width="stretch",
        column_config={
            "run_id": st.column_config.NumberColumn("run", format="%d"),
            "accuracy": st.column_config.NumberColumn(format="%.3f"),
            "macro_f1": st.column_config.NumberColumn("macro-F1", format="%.3f"),
            "train_wall_s": st.column_config.NumberColumn("train s", format="%.1f"),
            "energy_kwh": st.column_config.NumberColumn(
                "energy Wh", format="%.3g", help="Measured or estimated: each run's result card says which, and how."
            ),
            "created_at": st.column_config.TextColumn("created"),
            "open": st.column_config.LinkColumn(
                "open",
                display_text="watch / result",
                help="Opens the run: live while it trains, its result card after.",
            ),
        },
    )
