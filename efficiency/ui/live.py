"""A run's live view: progress, loss curve and Stop while it trains, its result card once it has ended."""

from __future__ import annotations

import streamlit as st

from efficiency import charts
from efficiency.fair_queue import queue_status
from efficiency.figures import text
from efficiency.store import ACTIVE, RunRecord
from efficiency.ui.card import result_card
from efficiency.ui.display import STATUS_ICONS, chart
from efficiency.ui.identity import current_actor
from efficiency.ui.pacing import refresh_s
from efficiency.ui.plain import escaped
from efficiency.ui.queueing import change_run, refusal
from efficiency.ui.resources import get_store


def watch(run_id: int) -> None:
    """A run's live view while it is active (every second, less often on a busy class server); then its result card."""
    record = get_store().get(run_id)
    if record is None:
        st.warning(f"Run {run_id} no longer exists (deleted).")
        return
    active = record.status in ACTIVE
    st.fragment(run_every=refresh_s(1.0, most_s=5.0) if active else None)(_watch_body)(run_id)


def _watch_body(run_id: int) -> None:
    store = get_store()
    record = store.get(run_id)
    if record is None:
        return
    st.subheader(f"{STATUS_ICONS.get(record.status, '')} Run {record.id}: {escaped(record.name)}")
    if record.note:
        st.caption(escaped(record.note))
    refusal(record.id)
    if record.status == "queued":
        waiting = queue_status(store, record.id)
        if waiting is not None and waiting.position is not None:
            st.info(
                escaped(f"Queued: position {waiting.position} for {record.device}. {waiting.reason}"),
                icon=":material/hourglass_top:",
            )
        # Callbacks, not `if st.button(...)`: a click landing while the once-a-second refresh reruns the
        # fragment could be lost (seen in the browser test on a busy machine); a callback runs first.
        if mine_to_change(record):
            st.button(
                "Cancel this run",
                key=f"cancel-{record.id}",
                on_click=change_run,
                args=("cancel", record.id),
                help="Takes it out of the queue; nothing is lost.",
            )
    elif record.status == "running":
        _live(record)
    else:
        if st.session_state.get(f"was-active-{record.id}"):
            st.session_state[f"was-active-{record.id}"] = False
            st.rerun()  # the whole page: the fragment stops refreshing now that the run has ended
        result_card(record)
        return
    st.session_state[f"was-active-{record.id}"] = True


def mine_to_change(record: RunRecord) -> bool:
    """Whether this browser may stop or cancel the run; on a class server, say whose run it is when not."""
    if current_actor().may_change(record.owner):
        return True
    whose = f"{record.owner_name}'s run" if record.owner_name else "Another student's run"
    st.caption(escaped(f"{whose}: only its owner or the teacher can stop it. You can watch it."))
    return False


def _live(record: RunRecord) -> None:
    store = get_store()
    progress = record.progress or {}
    if record.stop_requested:
        st.warning("Stopping at the next step: the best model so far is then tested and everything measured is kept.")
    if not progress:
        st.progress(0.0, text="Starting: loading the data and the model, counting FLOPs on probe batches…")
    else:
        step, total = progress["step"], max(progress["total_steps"], 1)
        phase = {"train": "training", "validate": "validating", "teacher": "training the teacher"}.get(
            progress.get("phase"), progress.get("phase", "")
        )
        st.progress(min(step / total, 1.0), text=f"{phase} · step {step} of {total} · epoch {progress['epoch']:.2f}")
    cols = st.columns(4)
    cols[0].metric(
        "Loss",
        f"{progress['loss']:.3f}" if progress.get("loss") is not None else "–",
        help="Cross-entropy of the latest training batch (measured): it jumps from batch to batch; the curve shows "
        "the trend.",
    )
    cols[1].metric("Examples/s", f"{progress.get('examples_per_s', 0):.1f}", help="Training examples per second.")
    eta = progress.get("eta_s")
    cols[2].metric(
        "Time left (estimate)",
        f"{eta:.0f} s" if eta is not None else "–",
        help="Training steps left times the average step time so far.",
    )
    energy = progress.get("energy_kwh")
    cols[3].metric(
        "Energy so far",
        text("energy_kwh", energy) if energy else "–",
        help="CodeCarbon's running total: on a machine without an energy counter, an estimate from a power model.",
    )
    rows = store.progress_of(record.id)
    if rows:
        chart(charts.loss_curve(rows), key=f"live-loss-{record.id}")
    if not record.stop_requested and mine_to_change(record):
        st.button(
            "Stop",
            key=f"stop-{record.id}",
            type="primary",
            on_click=change_run,
            args=("stop", record.id),
            help="Stops at the next step; what was measured is kept.",
        )
