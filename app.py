"""Efficiency Lab: the home page and the router.

Pages stay thin: they build one RunConfig from widgets, insert it into the run store, and read
the store back. Training runs in a background worker process, never in this one.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from efficiency import charts
from efficiency.config import DataConfig, ModelConfig, RunConfig, TrainConfig, field_help
from efficiency.data import list_datasets
from efficiency.errors import EfficiencyError
from efficiency.executor import LocalProcessExecutor
from efficiency.store import ACTIVE, RunRecord, RunStore

MODELS = {
    "minilm": "MiniLM (all-MiniLM-L6-v2, 22M parameters, offline)",
    "tiny": "Tiny BERT (2 layers, random init: seconds, for a quick look)",
    "tfidf-logreg": "TF-IDF + logistic regression (the classical baseline)",
}
BADGE_COLOURS = {"measured": "green", "counted": "blue", "estimated": "orange"}
CARD = [
    ("accuracy", "Accuracy", "{:.1%}"),
    ("macro_f1", "Macro-F1", "{:.3f}"),
    ("train_wall_s", "Training time", "{:.1f} s"),
    ("train_flops", "Training FLOPs", "{:.3g}"),
    ("energy_kwh", "Energy", "{:.2g} kWh"),
    ("co2_kg", "CO₂eq", "{:.2g} kg"),
    ("peak_memory_mb", "Peak memory", "{:.0f} MiB"),
    ("trainable_params", "Trainable parameters", "{:,}"),
    ("model_size_mb", "Model size", "{:.1f} MiB"),
    ("latency_ms_b1", "Latency, batch 1", "{:.1f} ms/example"),
    ("latency_ms_b32", "Latency, batch 32", "{:.2f} ms/example"),
]


@st.cache_resource
def get_store() -> RunStore:
    return RunStore()


@st.cache_resource
def get_executor() -> LocalProcessExecutor:
    return LocalProcessExecutor(get_store().url)


@st.cache_data(ttl=60)
def present_datasets() -> list[str]:
    return [row["name"] for row in list_datasets() if row["present"]] or ["nusax-senti/javanese"]


def home() -> None:
    st.title("Efficiency Lab")
    st.markdown(
        "Fine-tune a small transformer on a low-resource language and see what it **cost** and what it **bought**: "
        "accuracy against wall time, FLOPs, energy and carbon, every figure measured on this run or labelled "
        "an estimate. Efficiency has three pillars: **compute** (fewer or cheaper operations), **data** "
        "(fewer, better examples) and **effort** (fewer parameters to train)."
    )
    store = get_store()
    with st.form("experiment"):
        left, middle, right = st.columns([2, 2, 1])
        model = left.selectbox("Model", list(MODELS), format_func=MODELS.get, help=field_help(ModelConfig, "name"))
        datasets = present_datasets()
        default = datasets.index("nusax-senti/javanese") if "nusax-senti/javanese" in datasets else 0
        dataset = middle.selectbox("Dataset", datasets, index=default, help=field_help(DataConfig, "dataset"))
        epochs = right.number_input(
            "Epochs", min_value=1, max_value=50, value=TrainConfig().epochs, help=field_help(TrainConfig, "epochs")
        )
        submitted = st.form_submit_button("Train", type="primary", help="Starts the run in the background.")
    if submitted:
        start_run(store, model, dataset, int(epochs))

    watched = st.query_params.get("run")
    if watched and watched.isdigit():
        record = store.get(int(watched))
        if record is None:
            st.warning(f"Run {watched} no longer exists.")
        else:
            st.fragment(run_every=1.0 if record.status in ACTIVE else None)(watch)(record.id)
    active = any(r.status in ACTIVE for r in store.list(limit=10))
    st.fragment(run_every=2.0 if active else None)(latest_runs)()


def start_run(store: RunStore, model: str, dataset: str, epochs: int) -> None:
    config = RunConfig(
        model=ModelConfig(name=model), data=DataConfig(dataset=dataset), train=TrainConfig(epochs=epochs)
    )
    config.name = f"{model} on {dataset}"
    try:
        config.validate()
    except EfficiencyError as exc:
        st.error(str(exc))
        return
    run_id = store.create_run(config.to_dict())
    get_executor().start(run_id)
    st.query_params["run"] = str(run_id)


def watch(run_id: int) -> None:
    """The live view of one run; reruns every second while the run is queued or running."""
    store = get_store()
    record = store.get(run_id)
    if record is None:
        return
    st.subheader(f"Run {record.id}: {record.name}")
    if record.status == "queued":
        position = store.queue_position(record.id)
        st.info(f"Queued (position {position}): waiting for the device.")
    elif record.status == "running":
        progress = record.progress or {}
        if not progress:
            st.progress(0.0, text="starting: loading the data and the model…")
        else:
            step, total = progress["step"], progress["total_steps"]
            st.progress(step / total, text=f"step {step} of {total} · epoch {progress['epoch']:.2f}")
        cols = st.columns(4)
        cols[0].metric("Loss", f"{progress['loss']:.3f}" if progress.get("loss") is not None else "–")
        cols[1].metric("Examples/s", f"{progress.get('examples_per_s', 0):.1f}")
        eta = progress.get("eta_s")
        cols[2].metric("Time left (estimate)", f"{eta:.0f} s" if eta is not None else "–")
        energy = progress.get("energy_kwh")
        cols[3].metric(
            "Energy so far",
            f"{energy:.2g} kWh" if energy else "–",
            help="CodeCarbon's running total: an estimate from a power model on machines without an energy counter.",
        )
        rows = store.progress_of(record.id)
        if rows:
            st.plotly_chart(charts.loss_curve(rows), key=f"live-loss-{record.id}")
        if st.button("Stop", key=f"stop-{record.id}", help="Stops at the next step; what was measured is kept."):
            store.request_stop(record.id)
    else:
        show_result(record)
        if record.status != "running" and st.session_state.get(f"was-active-{record.id}"):
            st.session_state[f"was-active-{record.id}"] = False
            st.rerun()  # the fragment stops refreshing once the run has ended
        return
    st.session_state[f"was-active-{record.id}"] = True


def show_result(record: RunRecord) -> None:
    metrics = record.metrics or {}
    if record.status == "failed":
        st.error(record.error or "The run failed.")
        return
    if record.status == "interrupted":
        st.warning(record.error)
    if record.status == "stopped":
        where = metrics.get("stopped_at")
        st.warning(
            f"Stopped at {where}: the figures below cover the run up to there."
            if where
            else f"Stopped before training began ({record.error or 'cancelled'})."
        )
    if not metrics:
        return
    provenance = metrics.get("provenance", {})
    cols = st.columns(4)
    shown = [(k, label, fmt) for k, label, fmt in CARD if metrics.get(k) is not None]
    for i, (key, label, fmt) in enumerate(shown):
        with cols[i % 4]:
            st.metric(label, fmt.format(metrics[key]))
            info = provenance.get(key)
            if info:
                colour = BADGE_COLOURS.get(info["kind"], "gray")
                st.markdown(f":{colour}-badge[{info['kind']}]", help=info["method"])
    curves = record.curves or {}
    left, right = st.columns(2)
    if curves.get("train"):
        left.plotly_chart(charts.loss_curve(curves["train"], curves.get("valid", [])), key=f"loss-{record.id}")
    if metrics.get("confusion_matrix"):
        right.plotly_chart(
            charts.confusion_matrix(metrics["confusion_matrix"], metrics["label_names"]), key=f"cm-{record.id}"
        )
    with st.expander("How each figure was measured"):
        st.dataframe(
            pd.DataFrame([{"figure": k, "kind": v["kind"], "method": v["method"]} for k, v in provenance.items()]),
            hide_index=True,
        )


def latest_runs() -> None:
    store = get_store()
    st.subheader("Latest runs")
    records = store.list(limit=10)
    if not records:
        st.caption("No runs yet: press Train.")
        return
    frame = pd.DataFrame([r.summary() for r in records])
    frame["created_at"] = pd.to_datetime(frame["created_at"], unit="s").dt.strftime("%Y-%m-%d %H:%M")
    st.dataframe(
        frame[["run_id", "name", "status", "accuracy", "macro_f1", "train_wall_s", "energy_kwh", "created_at"]],
        hide_index=True,
        column_config={
            "accuracy": st.column_config.NumberColumn(format="%.3f"),
            "macro_f1": st.column_config.NumberColumn(format="%.3f"),
            "train_wall_s": st.column_config.NumberColumn("train s", format="%.1f"),
            "energy_kwh": st.column_config.NumberColumn(
                "energy kWh", format="%.2e", help="Measured or estimated: each run's result card says which, and how."
            ),
        },
    )


st.set_page_config(page_title="Efficiency Lab", page_icon="⚡", layout="wide")
navigation = st.navigation([st.Page(home, title="Home", icon="🏠", default=True)])
navigation.run()
