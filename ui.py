"""Streamlit pieces the pages share: cached resources, the sidebar, the live view and the result card.

Everything here only inserts rows into the run store and reads them back; training happens in a
worker process that the scheduler starts. Nothing in `efficiency/` imports this module.
"""

from __future__ import annotations

import dataclasses
import os
import re
from typing import Any

import pandas as pd
import streamlit as st

from efficiency import charts, estimate, lab_settings, reports
from efficiency.config import RunConfig
from efficiency.errors import EfficiencyError
from efficiency.figures import FIGURES, figure, scientific, shown, text
from efficiency.measure.busy import BUSY_SHARE
from efficiency.measure.carbon import WORLD, countries, intensity_g_per_kwh, resolve_country
from efficiency.model_names import TFIDF
from efficiency.runs.calibrations import active_calibrations
from efficiency.runs.checks import checked_device, device_name
from efficiency.runs.executor import LocalProcessExecutor
from efficiency.runs.scheduler import Scheduler
from efficiency.store import ACTIVE, RunRecord, RunStore

BADGE_COLOURS = {"measured": "green", "counted": "blue", "estimated": "orange"}
STATUS_ICONS = {
    "queued": ":material/hourglass_top:",
    "running": ":material/directions_run:",
    "finished": ":material/check_circle:",
    "stopped": ":material/stop_circle:",
    "failed": ":material/error:",
    "interrupted": ":material/warning:",
}
PRESENTATION_CSS = """
<style>
html, body, [data-testid="stAppViewContainer"] { font-size: 22px; }
[data-testid="stMarkdownContainer"] p, [data-testid="stMarkdownContainer"] li { font-size: 1.3rem; }
h1 { font-size: 3.2rem !important; } h2 { font-size: 2.4rem !important; } h3 { font-size: 1.9rem !important; }
[data-testid="stMetricValue"] { font-size: 2.8rem !important; }
[data-testid="stMetricLabel"] p { font-size: 1.2rem !important; }
section[data-testid="stSidebar"] { width: 17rem !important; min-width: 17rem !important; }
</style>
"""


def through_the_router() -> None:
    """Make sure this page runs inside app.py's router (sidebar, scheduler), even on a cold server.

    Streamlit (1.67) treats a `pages/` folder beside the main script as a legacy multipage app until
    `st.navigation` has run once in the server: the first visitor who opens /experiment or /compare
    directly would get the page alone, without the sidebar or the scheduler. Clearing that flag (what
    `st.navigation` itself does) and rerunning hands the visit to app.py, which then opens this page.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


# --- cached resources (created once per server, never mutated) ---------------------------------------
@st.cache_resource
def get_store() -> RunStore:
    return RunStore()


def _backstop_s() -> float | None:
    """The scheduler's hard limit: the teacher's limit, plus time to load, test and measure."""
    limit = lab_settings.load().time_limit_s
    return None if limit is None else limit * 1.25 + 120


@st.cache_resource
def get_scheduler() -> Scheduler:
    store = get_store()
    return Scheduler(store, LocalProcessExecutor(store.url), time_limit_s=_backstop_s).start()


# --- sidebar -------------------------------------------------------------------------------------------
def sidebar() -> None:
    """The settings every page shares: presentation mode, the country that prices CO2, the teacher's limit."""
    with st.sidebar:
        st.toggle(
            "Presentation mode",
            key="presentation",
            help="For a projector: large type, thick lines, one chart at a time. Colours are colour-blind safe "
            "(Okabe-Ito) in both modes.",
        )
        codes = [WORLD] + [code for code, _ in countries()]
        names = dict(countries())
        if "country" not in st.session_state:
            st.session_state.country = resolve_country(None)
        st.selectbox(
            "Country for CO₂",
            codes,
            key="country",
            format_func=lambda c: "World average" if c == WORLD else f"{names.get(c, c)} ({c})",
            help="Energy becomes CO₂eq through the carbon intensity of this country's grid (CodeCarbon's data). "
            "New runs are priced with it; the Compare page re-prices old runs under other grids.",
        )
        intensity, source = intensity_g_per_kwh(st.session_state.country)
        st.caption(f"{intensity:.0f} g CO₂eq/kWh: {source}.")
        # Always refreshed: a run another student (or the command line) queues shows up without a click.
        st.fragment(run_every=5.0)(queue_panel)()
        with st.expander("Teacher settings"):
            pin = os.environ.get("EFFLAB_TEACHER_PIN")
            if (
                pin
                and st.text_input(
                    "Teacher PIN",
                    type="password",
                    key="teacher-pin",
                    help="Set by $EFFLAB_TEACHER_PIN when the app was started.",
                )
                != pin
            ):
                limit = lab_settings.load().time_limit_min
                st.caption(f"Longest run allowed: {f'{limit:g} minutes' if limit else 'no limit'}.")
                return _presentation_css()
            current = lab_settings.load()
            limit = st.number_input(
                "Longest run allowed (minutes)",
                min_value=0.0,
                max_value=600.0,
                value=float(current.time_limit_min or 0.0),
                step=1.0,
                help="Every run stops training after this long (the best model so far is still tested), so one "
                "run cannot hold the machine for the whole lesson. 0 means no limit. Applies to new runs; a run "
                "still going well past it is stopped.",
            )
            wanted = None if limit == 0 else float(limit)
            if wanted != current.time_limit_min:
                lab_settings.save(dataclasses.replace(current, time_limit_min=wanted))
                st.toast("Time limit saved.")
    _presentation_css()


def queue_panel() -> None:
    """What the machine is doing for everyone: the run training on each device and the queue behind it."""
    active = get_store().active()
    measuring = active_calibrations()
    for what in measuring:
        st.caption(f":material/speed: Measuring this machine for predictions ({what}): a few seconds.")
    if not active:
        if not measuring:
            st.caption(":material/check_circle: No run in progress: the machine is free.")
        return
    st.markdown("**Running and queued**", help="Every session's runs: one trains per device, the rest wait in order.")
    waiting: dict[str, int] = {}
    for record in active:
        if record.status == "running":
            progress = record.progress or {}
            done = progress.get("step", 0) / max(progress.get("total_steps", 0), 1) if progress else 0.0
            state = f"training {done:.0%}" + (" (stopping)" if record.stop_requested else "")
        else:
            waiting[record.device] = waiting.get(record.device, 0) + 1
            state = f"queued #{waiting[record.device]}"
        st.page_link(
            "pages/experiment.py",
            label=f"Run {record.id}: {state} on {record.device}",  # short: the sidebar is narrow
            icon=STATUS_ICONS[record.status],
            help=f"{record.name or 'unnamed'}: opens its live view.",
            query_params={"run": str(record.id)},
        )


def _presentation_css() -> None:
    if presenting():
        st.html(PRESENTATION_CSS)


def presenting() -> bool:
    return bool(st.session_state.get("presentation"))


def chart(figure: Any, key: str) -> None:
    st.plotly_chart(charts.styled(figure, presenting()), key=key, config={"displaylogo": False})


def chart_row(figures: list[tuple[str, Any]], key: str) -> None:
    """Charts side by side; one at a time (tabs) in presentation mode."""
    if not figures:
        return
    if presenting():
        for tab, (title, figure) in zip(st.tabs([t for t, _ in figures]), figures, strict=True):
            with tab:
                chart(figure, f"{key}-{title}")
    else:
        for column, (title, figure) in zip(st.columns(len(figures)), figures, strict=True):
            with column:
                chart(figure, f"{key}-{title}")


# --- starting runs ---------------------------------------------------------------------------------------
def submit(config: RunConfig, predicted: dict[str, Any] | None = None) -> int | None:
    """Validate, queue and wake the scheduler; returns the run id, or shows the message and returns None."""
    limit_s = lab_settings.load().time_limit_s
    if limit_s is not None:
        own = config.train.time_limit_s
        config.train.time_limit_s = limit_s if own is None else min(own, limit_s)
    config.measure.country = config.measure.country or st.session_state.get("country")
    try:
        device = str(checked_device(config))
    except EfficiencyError as exc:
        st.error(str(exc), icon=":material/block:")
        return None
    run_id = get_store().create_run(config.to_dict(), device=device, estimate=predicted)
    get_scheduler().wake()
    return run_id


def repeat_with_seeds(record: RunRecord, more: int = 2) -> list[int]:
    """Queue the same experiment with the next unused seeds."""
    from efficiency.compare import signature

    store = get_store()
    used = {r.seed for r in store.list() if signature(r.config) == signature(record.config)}
    ids, seed = [], record.seed
    while len(ids) < more:
        seed += 1
        if seed in used:
            continue
        base_name = re.sub(r" \(seed \d+\)$", "", record.name)
        config = RunConfig.from_dict({**record.config, "seed": seed, "name": f"{base_name} (seed {seed})"})
        ids.append(
            store.create_run(config.to_dict(), device=record.device or device_name(config), estimate=record.estimate)
        )
    get_scheduler().wake()
    return ids


# --- calibration --------------------------------------------------------------------------------------------
def calibration_for(model: str, device: str) -> estimate.Calibration | None:
    return estimate.load_calibration(model, device)


def auto_calibrate() -> bool:
    """Whether the page measures the device by itself ($EFFLAB_AUTO_CALIBRATE=0 asks for a button: tests)."""
    return os.environ.get("EFFLAB_AUTO_CALIBRATE", "1") != "0"


def calibration_error(model: str, device: str) -> str | None:
    return estimate.calibration_error(model, device)


def power_of_device(device: str, calibration: estimate.Calibration | None = None) -> tuple[float | None, str]:
    """Average power on this device, for the energy estimate: the latest finished run's, else the calibration's."""
    for record in get_store().list(status="finished", limit=50):
        if record.device == device and record.model != TFIDF:
            watts = estimate.average_power_w(record.metrics or {})
            if watts:
                kind = (record.metrics or {}).get("energy_kind", "")
                return watts, f"average power of run {record.id} on {device} ({kind})"
    if calibration is not None and calibration.power_w:
        return calibration.power_w, f"average power during this machine's calibration ({calibration.power_method})"
    return None, ""


# --- live view -----------------------------------------------------------------------------------------------
def watch(run_id: int) -> None:
    """A run's live view, re-drawn every second while it is active; its result card once it has ended."""
    record = get_store().get(run_id)
    if record is None:
        st.warning(f"Run {run_id} no longer exists (deleted).")
        return
    active = record.status in ACTIVE
    st.fragment(run_every=1.0 if active else None)(_watch_body)(run_id)


def _watch_body(run_id: int) -> None:
    store = get_store()
    record = store.get(run_id)
    if record is None:
        return
    st.subheader(f"{STATUS_ICONS.get(record.status, '')} Run {record.id}: {record.name}")
    if record.note:
        st.caption(record.note)
    if record.status == "queued":
        position = store.queue_position(record.id)
        ahead = max((position or 1) - 1, 0)
        training = any(r.status == "running" and r.device == record.device for r in store.active())
        if ahead:
            where = f"{ahead} queued run(s) ahead of it" + (", and one run is training now." if training else ".")
        else:
            where = "It is next" + (", after the run training now." if training else ": it starts any second.")
        st.info(
            f"Queued: position {position} for {record.device}. {where}",
            icon=":material/hourglass_top:",
        )
        # Callbacks, not `if st.button(...)`: a click landing while the once-a-second refresh reruns the
        # fragment could be lost (seen in the browser test on a busy machine); a callback runs first.
        st.button(
            "Cancel this run",
            key=f"cancel-{record.id}",
            on_click=store.request_stop,
            args=(record.id,),
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
    if not record.stop_requested:
        st.button(
            "Stop",
            key=f"stop-{record.id}",
            type="primary",
            on_click=store.request_stop,
            args=(record.id,),
            help="Stops at the next step; what was measured is kept.",
        )


# --- result card -----------------------------------------------------------------------------------------------
def result_card(record: RunRecord) -> None:
    metrics = record.metrics or {}
    if record.status == "failed":
        st.error(record.error or "The run failed.", icon=":material/error:")
        if record.traceback:
            with st.expander("Technical details (for a bug report)"):
                st.code(record.traceback[-4000:])
        return
    if record.status == "interrupted":
        st.warning(record.error, icon=":material/warning:")
    if record.status == "stopped":
        where = metrics.get("stopped_at")
        st.warning(
            f"Stopped at {where}: the figures below cover the run up to there."
            if where
            else (record.error or "Stopped before training began."),
            icon=":material/stop_circle:",
        )
    if not metrics:
        rows = get_store().progress_of(record.id)
        if rows:
            chart(charts.loss_curve(rows, title="Training loss until it ended"), key=f"partial-{record.id}")
        return
    provenance = metrics.get("provenance", {})
    busy = metrics.get("other_cpu_share")
    if busy is not None and busy > BUSY_SHARE:
        st.warning(
            f"The machine was busy: other programs used {busy:.0%} of its CPU while this run trained, so its times "
            "(and an energy estimated from time) are inflated. Compare timings taken on a quiet machine.",
            icon=":material/speed:",
        )
    on_card = [f for f in FIGURES if f.on_card and metrics.get(f.key) is not None]
    per_row = 2 if presenting() else 4
    for start in range(0, len(on_card), per_row):
        for column, fig in zip(st.columns(per_row), on_card[start : start + per_row], strict=False):
            with column:
                info = provenance.get(fig.key)
                st.metric(fig.label, text(fig.key, metrics[fig.key]), help=info["method"] if info else None)
                if info:
                    colour = BADGE_COLOURS.get(info["kind"], "gray")
                    st.markdown(f":{colour}-badge[{info['kind']}]", help=info["method"])
    if record.estimate:
        _predicted_vs_measured(record.estimate, metrics)
    figures = []
    curves = record.curves or {}
    if curves.get("train"):
        figures.append(("Loss", charts.loss_curve(curves["train"], curves.get("valid", []))))
    elif rows := get_store().progress_of(record.id):  # a run killed mid-way: its progress rows are what is left
        figures.append(("Loss", charts.loss_curve(rows, title="Training loss (from the live progress)")))
    if metrics.get("confusion_matrix"):
        figures.append(
            ("Confusion matrix", charts.confusion_matrix(metrics["confusion_matrix"], metrics["label_names"]))
        )
    chart_row(figures, key=f"result-{record.id}")
    techniques = metrics.get("techniques") or {}
    if techniques:
        with st.expander("What each technique did", expanded=True):
            for name, report in techniques.items():
                technique_report(name, report, key=f"{record.id}-{name}")
    if metrics.get("misclassified"):
        with st.expander("Misclassified test examples"):
            st.dataframe(pd.DataFrame(metrics["misclassified"]), hide_index=True, width="stretch")
    if metrics.get("save_error"):
        st.warning(metrics["save_error"] + " Every figure above was still measured and kept.")
    if record.model_path and record.status == "finished":
        try_sentences(record)
    elif record.status == "finished" and record.model != TFIDF and not metrics.get("save_error"):
        st.caption(
            ":material/info: To try your own sentences on a model, tick *Keep the trained model* before training "
            "(Advanced settings); this run's model was not kept."
        )
    _next_steps(record)
    with st.expander("How each figure was measured"):
        counted_vs_rule_of_thumb(metrics)
        st.dataframe(
            pd.DataFrame([{"figure": k, "kind": v["kind"], "method": v["method"]} for k, v in provenance.items()]),
            hide_index=True,
            width="stretch",
        )


def technique_report(name: str, report: dict[str, Any], key: str) -> None:
    """One technique's report in words: settings, figures, before/after where it measured twice, stages."""
    from efficiency.techniques import FACTS

    summary = FACTS[name].summary if name in FACTS else ""  # a run stored by a technique since removed
    st.markdown(f"**{name}**: {summary}")
    settings_text = reports.settings_line(report)
    if settings_text:
        st.caption(f"Settings: {settings_text}")
    figures = reports.facts(report)
    if len(figures):
        st.dataframe(figures, hide_index=True, key=f"facts-{key}")
    compared = reports.before_after(report)
    if compared is not None:
        timed_steps = "step_ms" in (report.get("before") or {})
        st.markdown(
            f"Measured on this run, before and after ({report.get('before_label', 'before')} → "
            f"{report.get('after_label', 'after')}):",
            help="One training step (forward and backward) on the same batch of median length, in each precision: "
            "the median of 5 timed steps after a warm-up."
            if timed_steps
            else "The same test split, latency timing and size measurement as the run's own figures, applied to the "
            "model on each side of the technique.",
        )
        sides = [c for c in compared.columns if c not in ("figure", "after / before")]
        st.dataframe(
            compared,
            hide_index=True,
            key=f"before-after-{key}",
            column_config={
                **{side: st.column_config.NumberColumn(format="%.4g") for side in sides},
                "after / before": st.column_config.NumberColumn(format="%.2fx"),
            },
        )
    per_stage = reports.stages(report)
    if per_stage is not None:
        st.markdown(
            "Per stage (multistage filtering):",
            help="Stage 0 trains on everything and sets the loss threshold; stage 1 runs forward on every example "
            "and backward only on hard ones; stage 2 also skips the forward pass of examples predicted easy.",
        )
        st.dataframe(per_stage, hide_index=True, key=f"stages-{key}")


def counted_vs_rule_of_thumb(metrics: dict[str, Any]) -> None:
    """FLOPs counted on this run beside the textbook 6·N·D: where they differ is a lesson in itself."""
    rule = metrics.get("analytical_train_flops")
    counted = metrics.get("train_flops")
    if not rule or not counted:
        return
    counted -= metrics.get("teacher_flops") or 0.0  # the rule covers the steps of this model only
    st.markdown(
        f"**FLOPs, counted against the rule of thumb.** Counted on this run: {scientific(counted)}; "
        f"6·N·D (N non-embedding parameters, D = {metrics.get('train_tokens', 0):,} padded tokens): "
        f"{scientific(rule)}, so counted / rule = {counted / rule:.2f}. Below 1: frozen weights skip their "
        "weight gradients (PEFT, restricted fine-tuning); above 1: attention's T² term, which the rule, "
        "counting only the weight matrices, leaves out (it weighs more on long texts).",
        help=metrics.get("provenance", {}).get("analytical_train_flops", {}).get("method"),
    )


def _predicted_vs_measured(predicted: dict[str, Any], metrics: dict[str, Any]) -> None:
    rows = []
    for key, label, measured in (
        ("train_flops", "training FLOPs", metrics.get("train_flops")),
        (
            "train_eval_wall_s",
            "training + evaluation time (s)",
            (metrics.get("train_wall_s") or 0) + (metrics.get("eval_wall_s") or 0) or None,
        ),
        ("energy_kwh", "energy (Wh)", metrics.get("energy_kwh")),
    ):
        guess, measured = shown(key, predicted.get(key)), shown(key, measured)
        if guess is None and measured is None:
            continue
        rows.append(
            {
                "figure": label,
                "predicted before the run": guess,
                "measured": measured,
                "measured / predicted": measured / guess if guess and measured else None,
            }
        )
    if rows:
        with st.expander("Prediction beside measurement"):
            st.dataframe(
                pd.DataFrame(rows),
                hide_index=True,
                column_config={
                    "predicted before the run": st.column_config.NumberColumn(format="%.3g"),
                    "measured": st.column_config.NumberColumn(format="%.3g"),
                    "measured / predicted": st.column_config.NumberColumn(format="%.2f"),
                },
            )
            st.caption(f"Prediction: {predicted.get('method', '')}.")


@st.cache_resource(max_entries=2)
def _kept_model(folder: str, run_id: int, created_at: float) -> Any:  # the run's identity keys the cache
    from efficiency.inference import KeptModel

    return KeptModel(folder)


def try_sentences(record: RunRecord) -> None:
    with st.form(f"try-{record.id}"):
        text = st.text_input(
            "Try a sentence",
            placeholder="Type a sentence in the dataset's language",
            help="The kept model of this run predicts its label (on the CPU, in this page).",
        )
        asked = st.form_submit_button("Predict", help="Runs the kept model on your sentence, here on the CPU.")
    if asked and text.strip():
        try:
            result = _kept_model(record.model_path, record.id, record.created_at).predict([text.strip()])[0]
        except EfficiencyError as exc:
            st.error(str(exc))
            return
        st.markdown(f"Predicted: **{result.label}**")
        chart(charts.prediction(result.probabilities), key=f"prediction-{record.id}")


def _next_steps(record: RunRecord) -> None:
    left, middle, right = st.columns(3)
    repeated = st.session_state.setdefault("repeated", {})
    if record.status == "finished":
        left.button(
            "Repeat with 2 more seeds",
            key=f"repeat-{record.id}",
            # A callback runs before the page is drawn, so the button is already disabled when it reappears.
            on_click=lambda: repeated.__setitem__(record.id, repeat_with_seeds(record)),
            disabled=record.id in repeated,  # a second click would queue two more
            help="Queues the same experiment twice more with other seeds, so Compare can show the spread.",
        )
    for run_id in repeated.get(record.id, []):
        left.page_link(
            "pages/experiment.py",
            label=f"Run {run_id} (queued: another seed)",
            icon=":material/hourglass_top:",
            query_params={"run": str(run_id)},
            help="Opens its live view.",
        )
    plain = not (record.config or {}).get("techniques")
    middle.page_link(
        "pages/compare.py",
        label="Compare with the other runs" if plain else "Compare with full fine-tuning",
        icon=":material/balance:",
        query_params={"dataset": record.dataset, "b": str(record.id)},
        help="Opens Compare on this dataset with this run as B (A: full fine-tuning of the same model, where there "
        "is one).",
    )
    right.page_link(
        "pages/experiment.py",
        label="Change a setting and run again",
        icon=":material/science:",
        query_params={"from": str(record.id)},
        help="Opens the Experiment page with this run's settings.",
    )


# --- tables ------------------------------------------------------------------------------------------------------
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
