"""The result card: every figure with its provenance, the techniques' reports, predicted against measured, next steps."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from efficiency import charts, reports
from efficiency.errors import EfficiencyError
from efficiency.figures import FIGURES, scientific, shown, text
from efficiency.finite import divergence_message
from efficiency.measure.busy import BUSY_SHARE
from efficiency.model_names import TFIDF
from efficiency.run_card import card_markdown, run_card
from efficiency.store import RunRecord
from efficiency.ui.display import BADGE_COLOURS, chart, chart_row, presenting
from efficiency.ui.plain import escaped, show_error, show_warning
from efficiency.ui.queueing import repeat_with_seeds
from efficiency.ui.resources import get_store
from efficiency.ui.router import PAGES, page_link


def result_card(record: RunRecord) -> None:
    """A run's result: its status, every figure with its provenance, its charts, what the techniques did."""
    metrics = record.metrics or {}
    if not _status(record, metrics):
        return
    if not metrics:
        rows = get_store().progress_of(record.id)
        if rows:
            chart(charts.loss_curve(rows, title="Training loss until it ended"), key=f"partial-{record.id}")
        return
    _figure_tiles(metrics)
    gpu_board_energy(metrics)
    if record.estimate:
        _predicted_vs_measured(record.estimate, metrics)
    _charts(record, metrics)
    _details(record, metrics)
    _next_steps(record)
    with st.expander("How each figure was measured"):
        counted_vs_rule_of_thumb(metrics)
        st.dataframe(
            pd.DataFrame(
                [
                    {"figure": k, "kind": v["kind"], "method": v["method"]}
                    for k, v in metrics.get("provenance", {}).items()
                ]
            ),
            hide_index=True,
            width="stretch",
        )


def _status(record: RunRecord, metrics: dict[str, Any]) -> bool:
    """A failed, interrupted or stopped run says so; False when nothing more is to be shown (a failure)."""
    if record.status == "failed":
        show_error(record.error or "The run failed.", icon=":material/error:")
        if record.traceback:
            with st.expander("Technical details (for a bug report)"):
                st.code(record.traceback[-4000:])
        return False
    if record.status == "interrupted":
        show_warning(record.error or "The run was interrupted.", icon=":material/warning:")
    if record.status == "stopped":
        where = metrics.get("stopped_at")
        show_warning(
            f"Stopped at {where}: the figures below cover the run up to there. {record.error or ''}".strip()
            if where
            else (record.error or "Stopped before training began."),
            icon=":material/stop_circle:",
        )
    if diverged := divergence_message(metrics):
        st.warning(diverged, icon=":material/trending_up:")
    return True


def _figure_tiles(metrics: dict[str, Any]) -> None:
    """The card's figures from the catalogue, each with its provenance badge, and a warning on a busy machine."""
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


def gpu_board_energy(metrics: dict[str, Any]) -> None:
    """The GPU board's NVML total beside the share attributable to the run, each labelled, and the notes on them."""
    total = metrics.get("nvml_gpu_energy_kwh")
    if total is None:
        return
    said = f"GPU board (NVML): {text('energy_kwh', total)} in all (measured, the whole board)"
    attributable, idle_w = metrics.get("nvml_attributable_kwh"), metrics.get("nvml_idle_power_w")
    if attributable is not None and idle_w is not None:
        said += f"; {text('energy_kwh', attributable)} attributable to the run (estimated: less its {idle_w:.0f} W idle draw)"
    st.caption(escaped(said + "."))
    for note in metrics.get("nvml_notes") or []:
        st.caption(escaped(note))


def _charts(record: RunRecord, metrics: dict[str, Any]) -> None:
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


def _details(record: RunRecord, metrics: dict[str, Any]) -> None:
    """What each technique did, the misclassified examples, and the sentence box of a kept model."""
    techniques = metrics.get("techniques") or {}
    if techniques:
        with st.expander("What each technique did", expanded=True):
            for name, report in techniques.items():
                technique_report(name, report, key=f"{record.id}-{name}")
    if metrics.get("misclassified"):
        with st.expander("Misclassified test examples"):
            st.dataframe(pd.DataFrame(metrics["misclassified"]), hide_index=True, width="stretch")
    if metrics.get("save_error"):
        show_warning(metrics["save_error"] + " Every figure above was still measured and kept.")
    if record.model_path and record.status == "finished":
        from efficiency.inference import kept_model_problem

        problem = kept_model_problem(record.model_path)  # an older, pickled format or a folder elsewhere: unread
        if problem:
            st.warning(problem)
        else:
            try_sentences(record)
    elif record.status == "finished" and record.model != TFIDF and not metrics.get("save_error"):
        st.caption(
            ":material/info: To try your own sentences on a model, tick *Keep the trained model* before training "
            "(Advanced settings); this run's model was not kept."
        )


def technique_report(name: str, report: dict[str, Any], key: str) -> None:
    """One technique's report in words: settings, figures, before/after where it measured twice, stages."""
    from efficiency.techniques import FACTS

    summary = FACTS[name].summary if name in FACTS else ""  # a run stored by a technique since removed
    st.markdown(f"**{escaped(name)}**: {summary}")
    settings_text = reports.settings_line(report)
    if settings_text:
        st.caption(f"Settings: {escaped(settings_text)}")
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
            result = _kept_model(record.model_path, record.id, record.created_at).predict_one(text)
        except EfficiencyError as exc:
            show_error(str(exc))
            return
        st.markdown(f"Predicted: **{escaped(result.label)}**")
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
        page_link(
            PAGES.experiment,
            where=left,
            label=f"Run {run_id} (queued: another seed)",
            icon=":material/hourglass_top:",
            query_params={"run": str(run_id)},
            help="Opens its live view.",
        )
    plain = not (record.config or {}).get("techniques")
    page_link(
        PAGES.compare,
        where=middle,
        label="Compare with the other runs" if plain else "Compare with full fine-tuning",
        icon=":material/balance:",
        query_params={"dataset": record.dataset, "b": str(record.id)},
        help="Opens Compare on this dataset with this run as B (A: full fine-tuning of the same model, where there "
        "is one).",
    )
    page_link(
        PAGES.experiment,
        where=right,
        label="Change a setting and run again",
        icon=":material/science:",
        query_params={"from": str(record.id)},
        help="Opens the Experiment page with this run's settings.",
    )
    if record.status in ("finished", "stopped"):
        card = run_card(record)
        right.download_button(
            "Run card (Markdown)",
            card_markdown(card),
            f"efficiency-lab-run-{record.id}.md",
            "text/markdown",
            key=f"card-{record.id}",
            help="Config, hardware, library versions, how each figure was measured, seed, results and the "
            "command that re-runs it. Also: python -m efficiency runs card ID.",
        )
