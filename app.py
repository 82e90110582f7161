"""Efficiency Lab: the home page and the router.

Pages stay thin: they build one RunConfig from widgets, insert it into the run store, and read
the store back. Training runs in a background worker process that the scheduler starts, never here.
"""

from __future__ import annotations

import streamlit as st

from efficiency import ui
from efficiency.data import list_datasets
from efficiency.presets import DEMO_DATASET, demo_config


def home() -> None:
    st.title("Efficiency Lab")
    st.markdown(
        "Fine-tune a small transformer on a low-resource language and see what each efficiency technique "
        "**cost** and what it **bought**: accuracy against wall time, FLOPs, energy and carbon, every figure "
        "measured on this run or labelled an estimate with its method."
    )
    compute, data, effort = st.columns(3)
    compute.markdown(
        "#### :material/settings: Compute\nFewer or cheaper operations: **distillation** into a smaller student, **pruning** "
        "weights, heads or layers, **quantization**, **mixed precision**."
    )
    data.markdown(
        "#### :material/menu_book: Data\nFewer, better examples: **data filtering** (random, length, duplicates, hardest-first, "
        "and the multistage filtering of Ouyang et al., 2023)."
    )
    effort.markdown(
        "#### :material/tune: Effort\nFewer parameters to train: **LoRA**, **prefix tuning**, **IA³**, **BitFit**, "
        "freezing lower layers, a linear **probe**."
    )
    present = any(row["name"] == DEMO_DATASET and row["present"] for row in list_datasets())
    left, right = st.columns([1, 2])
    demo = left.button(
        "▶ Run the one-minute demo",
        type="primary",
        disabled=not present,
        help="MiniLM with LoRA on Javanese sentiment (NusaX-senti), 2 epochs, model kept so you can try sentences. "
        "About a minute on a laptop CPU.",
    )
    ui.page_link(
        ui.PAGES.experiment,
        where=right,
        label="Build your own experiment",
        icon=":material/science:",
        help="Choose the model, the data and the techniques yourself.",
    )
    if not present:
        st.warning(
            f"The demo's dataset ({DEMO_DATASET}) is not in the data folder: see `python -m efficiency data list`, "
            "or set $EFFLAB_DATA_DIR to the folder that holds it."
        )
    if demo:
        run_id = ui.submit(demo_config())
        if run_id is not None:
            st.query_params["run"] = str(run_id)
    watched = st.query_params.get("run")
    if watched and watched.isdigit():
        ui.watch(int(watched))
    st.subheader("Latest runs")
    # Always refreshed, faster while something runs: a run queued from another session or the CLI shows up.
    active = any(r.status in ("queued", "running") for r in ui.get_store().list(limit=10))
    every_s = ui.refresh_s(2.0, most_s=10.0) if active else ui.refresh_s(10.0, most_s=30.0)
    st.fragment(run_every=every_s)(ui.latest_runs)()


st.set_page_config(page_title="Efficiency Lab", page_icon="⚡", layout="wide")
navigation = ui.navigation(home)
try:
    navigation.run()
finally:
    # After the page, so its title paints before the store, the scheduler and the sidebar are imported;
    # the sidebar still sits in its place (below the page links), and is drawn even when a page stops.
    ui.get_scheduler()  # one per server: starts queued runs, enforces stops and the time limit
    ui.collect_garbage_periodically()  # one per server: instead of Streamlit's collection after every rerun
    ui.sidebar()
