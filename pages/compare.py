"""Compare: runs side by side, accuracy against a cost with the Pareto frontier, A versus B, re-pricing."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from efficiency import charts, ui
from efficiency.compare import (
    Group,
    baseline_of,
    charged_curve,
    config_diff,
    countries_to_reprice,
    export_runs,
    group_seeds,
    pareto_mask,
    ratio_phrase,
    reprice,
    run_frame,
    versus,
    versus_sentence,
)
from efficiency.errors import EfficiencyError
from efficiency.figures import costs, figure, in_sentence, qualities, shown, text
from efficiency.measure.carbon import WORLD
from efficiency.store import ACTIVE

# Compact headers for the run table; a figure without one is headed by its axis title.
TABLE_COLUMNS = {
    "accuracy": st.column_config.NumberColumn(format="%.3f"),
    "macro_f1": st.column_config.NumberColumn("macro-F1", format="%.3f"),
    "train_wall_s": st.column_config.NumberColumn("train s", format="%.1f"),
    "train_flops": st.column_config.NumberColumn("train FLOPs", format="%.2e"),
    "energy_kwh": st.column_config.NumberColumn(
        "Wh", format="%.3g", help="Energy in watt-hours; estimated where the run's card says so."
    ),
    "co2_kg": st.column_config.NumberColumn(
        "g CO₂eq", format="%.3g", help="Grams, every run priced under the sidebar's grid."
    ),
    "peak_memory_mb": st.column_config.NumberColumn("peak MiB", format="%.0f"),
    "trainable_params": st.column_config.NumberColumn(),  # headed by its key, as it always was
    "model_size_mb": st.column_config.NumberColumn("size MiB", format="%.1f"),
    "latency_ms_b1": st.column_config.NumberColumn("ms/ex b1", format="%.1f"),
}


def filters(frame: pd.DataFrame) -> pd.DataFrame:
    datasets = sorted(frame["dataset"].unique())
    wanted = st.query_params.get("dataset")
    left, middle, right = st.columns(3)
    dataset = left.selectbox(
        "Dataset",
        datasets,
        index=datasets.index(wanted) if wanted in datasets else 0,
        key="cmp.dataset",
        help="The chart compares runs on one dataset at a time.",
    )
    frame = frame[frame["dataset"] == dataset]
    models = sorted(frame["model"].unique())
    chosen_models = middle.multiselect(
        "Models", models, default=models, key=f"cmp.models.{dataset}", help="Show runs of these models."
    )
    names = sorted({n.strip() for cell in frame["technique_names"] for n in cell.split(",")})
    chosen_techniques = right.multiselect(
        "Techniques",
        names,
        default=names,
        key=f"cmp.techniques.{dataset}",
        help="Show runs that use any of these ('none': full fine-tuning and the baseline).",
    )
    keep = frame["model"].isin(chosen_models) & frame["technique_names"].apply(
        lambda cell: any(n.strip() in chosen_techniques for n in cell.split(","))
    )
    return frame[keep]


def run_table(frame: pd.DataFrame) -> list[int]:
    """The filtered runs; returns the ids of the selected rows (the selection is reset when the rows change)."""
    axes = [*qualities(), *costs()]
    table = frame[
        ["run_id", "name", *(["owner_name"] if ui.class_mode() else []), "status", "model", "techniques", "seed",
         *(f.key for f in axes), "other_cpu_share", "kept_model", "created_at"]
    ].copy()  # fmt: skip
    for f in axes:  # the card's units (Wh and g); exports keep the stored kWh and kg
        if f.scale != 1.0:
            table[f.key] = pd.to_numeric(table[f.key], errors="coerce") * f.scale
    event = st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        on_select="rerun",
        selection_mode="multi-row",
        key=f"cmp.table.{st.session_state.get('cmp.table-version', 0)}.{hash(tuple(frame['run_id']))}",
        column_config={
            "run_id": st.column_config.NumberColumn("run", format="%d"),
            "owner_name": st.column_config.TextColumn("student"),
            **{f.key: TABLE_COLUMNS.get(f.key, st.column_config.NumberColumn(f.axis_title)) for f in axes},
            "other_cpu_share": st.column_config.NumberColumn(
                "others' CPU",
                format="percent",
                help="Share of the machine's CPU other programs used while the run trained: high means inflated times.",
            ),
            "kept_model": st.column_config.CheckboxColumn("kept", help="The trained model was kept."),
            "created_at": st.column_config.DatetimeColumn("created", format="YYYY-MM-DD HH:mm"),
        },
    )
    rows = event.selection.rows if event is not None else []
    return [int(table.iloc[i]["run_id"]) for i in rows if i < len(table)]


@st.dialog("Delete runs")
def confirm_delete(run_ids: list[int]) -> None:
    st.write(f"Delete run(s) {', '.join(map(str, run_ids))}, their progress and any kept model? This cannot be undone.")
    if st.button("Delete", type="primary", help="Deletes the runs for good."):
        store, deleted, refused = ui.get_store(), [], []
        for run_id in run_ids:
            try:
                if store.delete(run_id, actor=ui.current_actor()):
                    deleted.append(run_id)
            except EfficiencyError as exc:
                refused.append(str(exc))
        st.session_state["cmp.deleted"] = (deleted, refused)
        st.session_state["cmp.table-version"] = st.session_state.get("cmp.table-version", 0) + 1  # clear the selection
        st.rerun()


def actions(selected: list[int], all_ids: list[int]) -> None:
    store = ui.get_store()
    ids = selected or all_ids
    records = [r for r in (store.get(i) for i in ids) if r is not None]
    which = "selected" if selected else "shown"
    left, middle, right = st.columns(3)
    # Short labels: three buttons side by side must stay whole in presentation mode's large type.
    left.download_button(
        "Export CSV",
        export_runs(records, "csv"),
        "efficiency-lab-runs.csv",
        "text/csv",
        help=f"The {len(records)} {which} runs, one row each: their figures and their config as JSON.",
    )
    middle.download_button(
        "Export JSON",
        export_runs(records, "json"),
        "efficiency-lab-runs.json",
        "application/json",
        help=f"Everything stored for the {len(records)} {which} runs (config, metrics, curves, environment), "
        "without the server's details: no traceback, host, process id or folder.",
    )
    if right.button(
        "Delete selected",
        disabled=not selected,
        help="Deletes the selected runs after a confirmation. Select rows in the table first.",
    ):
        confirm_delete(selected)
    deletion_outcome()


def deletion_outcome() -> None:
    """What the confirmed deletion did: shown once, even when it emptied the table."""
    if "cmp.deleted" in st.session_state:
        deleted, refused = st.session_state.pop("cmp.deleted")
        if deleted:
            st.success(f"Deleted run(s) {', '.join(map(str, deleted))}.")
        for message in refused:
            st.error(message)


def group_hover(group: Group, baseline: Group | None, quality: str, cost: str) -> str:
    q, sd = group.mean.get(quality), group.sd.get(quality)
    lines = [f"<b>{charts.plain(group.label)}</b>", f"runs {', '.join(map(str, group.run_ids))} (seeds {group.seeds})"]
    if q is not None:
        lines.append(f"{figure(quality).label} {q:.3f}" + (f" ± {sd:.3f} (sd)" if sd else " (one seed)"))
    value = group.mean.get(cost)
    if value is not None:
        lines.append(f"{figure(cost).axis_title}: {shown(cost, value):.3g}")
    if baseline is not None and baseline is not group:
        diff = config_diff(baseline.config, group.config)
        lines.append("vs baseline: " + charts.plain("; ".join(diff[:6]) if diff else "same settings"))
    return "<br>".join(lines)


def frontier_axes(groups: list[Group]) -> tuple[int, str, str, bool]:
    """The baseline for the hover (0: full fine-tuning of the same model), the quality, the cost, log or not."""
    choices = [0] + [g.run_ids[0] for g in groups]
    by_id = {g.run_ids[0]: g for g in groups}
    picked = st.selectbox(
        "Baseline for the differences shown on hover",
        choices,
        format_func=lambda i: "full fine-tuning of the same model" if i == 0 else f"{by_id[i].label} (run {i})",
        key=f"cmp.baseline.{hash(tuple(choices))}",
        help="Each point's hover lists the settings in which it differs from this run.",
    )
    # The toggle's column is wide enough for 'Log scale' in presentation mode's large type.
    left, middle, right = st.columns([2, 3, 2])
    quality = left.selectbox(
        "Quality",
        [f.key for f in qualities()],
        format_func=lambda key: figure(key).label,
        key="cmp.quality",
        help="Test-split accuracy, or macro-F1 (fairer when classes are unbalanced).",
    )
    cost = middle.selectbox(
        "Cost axis",
        [f.key for f in costs()],
        format_func=lambda key: figure(key).axis_title,
        key="cmp.cost",
        help="Lower is better. Energy and CO₂ are estimates on machines without an energy "
        "counter: then they restate wall time.",
    )
    log_x = right.toggle(
        "Log scale",
        value=figure(cost).axis_scale == "log",
        key=f"cmp.log.{cost}",
        help="Costs that span orders of magnitude read better on a log axis.",
    )
    return picked, quality, cost, log_x


def frontier_chart(groups: list[Group]) -> None:
    first, second = st.container(), st.container()
    # On a projector the chart comes first and its settings under it; on a screen the settings lead.
    chart_slot, settings_slot = (first, second) if ui.presenting() else (second, first)
    with settings_slot:
        picked, quality, cost, log_x = frontier_axes(groups)
    with chart_slot:
        draw_frontier(groups, picked, quality, cost, log_x)


def draw_frontier(groups: list[Group], picked: int, quality: str, cost: str, log_x: bool) -> None:
    by_id = {g.run_ids[0]: g for g in groups}
    x_title, y_title = figure(cost).axis_title, figure(quality).axis_title
    usable = [g for g in groups if g.mean.get(cost) is not None and g.mean.get(quality) is not None]
    if not usable:
        st.info(f"No finished run here has both {in_sentence(y_title)} and {in_sentence(x_title)}.")
        return
    mask = pareto_mask([g.mean[cost] for g in usable], [g.mean[quality] for g in usable])
    points = [
        {
            "label": g.label + (f" ×{g.n}" if g.n > 1 else ""),
            "x": shown(cost, g.mean[cost]),
            "y": g.mean[quality],
            "x_sd": shown(cost, g.sd.get(cost)),
            "y_sd": g.sd.get(quality),
            "n": g.n,
            "on_front": on,
            "hover": group_hover(g, by_id[picked] if picked else baseline_of(g, groups), quality, cost),
        }
        for g, on in zip(usable, mask, strict=True)
    ]
    ui.chart(
        charts.frontier(
            points,
            x_title,
            y_title,
            log_x,
            title=f"{y_title} against {in_sentence(x_title)}",
            y_bounds=figure(quality).axis_range,
            presentation=ui.presenting(),
        ),
        key="cmp.frontier",
    )
    st.caption(
        "Each point is one experiment; repeated seeds are averaged, with one standard deviation as the error bar "
        "(×n: n seeds). Coloured points are on the Pareto frontier: no other run is both cheaper and better. "
        "Hover for the settings that differ from the baseline."
    )


def a_versus_b(groups: list[Group]) -> tuple[Group, Group] | None:
    if len(groups) < 2:
        st.info("Two finished experiments on this dataset are needed for A versus B.")
        return None
    by_id = {g.run_ids[0]: g for g in groups}
    ids = list(by_id)

    def label(run_id: int) -> str:
        group = by_id[run_id]
        return f"{group.label} (run {', '.join(map(str, group.run_ids))})"

    wanted_b = st.query_params.get("b")
    b_default = next((g.run_ids[0] for g in groups if wanted_b and wanted_b.isdigit() and int(wanted_b) in g.run_ids),
                     ids[-1])  # fmt: skip
    baseline = baseline_of(by_id[b_default], groups)
    if baseline is None:
        st.caption("No full fine-tuning of this model on this dataset yet: A is another run. Queue one to compare "
                   "against the reference.")  # fmt: skip
    a_default = (
        baseline.run_ids[0]
        if baseline is not None and baseline.run_ids[0] != b_default
        else next(i for i in ids if i != b_default)
    )
    left, right = st.columns(2)
    # Options are run ids, keyed by the experiments shown: when those change, a choice returns to its default
    # rather than silently pointing at another experiment.
    key = hash(tuple(ids))
    pickers = (
        (left, "A (reference)", a_default, "a", "By default full fine-tuning of the same model."),
        (right, "B", b_default, "b", "The run to judge against A: by default the one you came from, or the newest."),
    )
    a, b = (
        by_id[
            column.selectbox(name, ids, index=ids.index(default), format_func=label, key=f"cmp.{tag}.{key}", help=help)
        ]
        for column, name, default, tag, help in pickers
    )
    versus_card(a, b)
    return a, b


def versus_card(a: Group, b: Group) -> None:
    """B against A in words: time, FLOPs, quality points against the seeds' noise, CO2 saved, what differs."""
    result = versus(a, b, st.session_state.get("cmp.quality", "accuracy"))
    with st.container(border=True):
        st.markdown(f"#### B against A: {versus_sentence(result) or 'no figures to compare'}")
        cols = st.columns(4)
        cols[0].metric(
            "Training time",
            ratio_phrase(result.get("train_wall_s_factor")) or "–",
            help="B's training wall time against A's (measured).",
        )
        cols[1].metric(
            "Training FLOPs",
            ratio_phrase(result.get("train_flops_factor"), more="more", less="fewer") or "–",
            help="B's counted training FLOPs against A's; – where one of them was not counted (TF-IDF).",
        )
        points = result.get("quality_points")
        noise = result.get("noise_points")
        cols[2].metric(
            f"{figure(result['quality']).label} (points)",
            f"{points:+.1f}" if points is not None else "–",
            help=(
                f"Seeds' combined spread: ±{noise:.1f} points."
                if noise is not None
                else "One seed each: run 'Repeat with 2 more seeds' to see the noise."
            ),
        )
        saved = result.get("co2_saved_g")
        cols[3].metric(
            "CO₂eq saved",
            figure("co2_kg").fmt(saved) if saved is not None else "–",
            help="Both priced under the sidebar's grid (estimated).",
        )
        diff = config_diff(a.config, b.config)
        if diff:
            st.caption("B differs from A in: " + ui.escaped("; ".join(diff)))


def repricing(group: Group) -> None:
    energy = group.mean.get("energy_kwh")
    if not energy:
        return
    st.subheader("The same energy on other grids")
    home = ui.chosen_country()
    frame = reprice(energy, countries_to_reprice(home))
    ui.chart(charts.reprice(frame, highlight=home), key="cmp.reprice")
    st.caption(
        f"{ui.escaped(group.label)}: {text('energy_kwh', energy)}, priced with each country's grid intensity (CodeCarbon's data). "
        "Where a run trains can matter more than how."
    )


def curves_overlay(selected: list[int], groups: list[Group]) -> None:
    store = ui.get_store()
    ids = selected or [g.run_ids[0] for g in groups[:6]]
    curves = {}
    for run_id in ids:
        record = store.get(run_id)
        if record and record.curves and record.curves.get("train"):
            curves[f"run {run_id}: {record.name}"[:60]] = charged_curve(record)
    if not curves:
        return
    st.subheader("Training loss, overlaid")
    x_key = st.radio(
        "x-axis",
        list(charts.CURVE_AXES),
        format_func=charts.CURVE_AXES.get,
        horizontal=True,
        key="cmp.curve-axis",
        help="Examples seen or FLOPs line up runs fairly when some train on filtered data. On the FLOPs and time axes "
        "a distillation run starts where its teacher's training (charged to it) ended.",
    )
    ui.chart(charts.loss_overlay(curves, x_key), key="cmp.curves")
    if not selected:
        st.caption("Showing the first run of each experiment: select rows in the table to choose.")


def no_runs_yet() -> None:
    deletion_outcome()
    st.info("No runs yet: run the demo on the home page or build an experiment.")
    ui.page_link(
        ui.PAGES.experiment,
        where=st,
        label="Build an experiment",
        icon=":material/science:",
        help="Opens the Experiment page.",
    )


def compare_runs(records: list) -> None:
    country = ui.chosen_country()
    if ui.presenting():  # the chart on the first screen; the filters and the table fold away under it
        charts_slot = st.container()
        with st.expander("Runs shown: filters, table and export", expanded=False):
            frame, selected = runs_shown(records, country)
    else:
        frame, selected = runs_shown(records, country)
        charts_slot = st.container()
    with charts_slot:
        compare_charts(records, frame, selected, country)
    if ui.class_mode():  # the teacher's, once the PIN is typed
        ui.class_view(records, st.session_state.get("cmp.dataset") or records[0].dataset)


def runs_shown(records: list, country: str | None) -> tuple[pd.DataFrame, list[int]]:
    """The filters, the run table and its actions: the runs the charts compare, and those selected."""
    frame = filters(run_frame(records, country))
    selected = run_table(frame)
    actions(selected, [int(i) for i in frame["run_id"]])
    if any(s in ACTIVE for s in frame["status"]):
        st.caption("Some runs are still going: their points appear as they finish.")
        finished_now = sum(r.status == "finished" for r in records)

        def refresh_when_a_run_ends() -> None:
            if len(ui.get_store().list(status="finished")) != finished_now:
                st.rerun()

        st.fragment(run_every=ui.refresh_s(3.0, most_s=15.0))(refresh_when_a_run_ends)()
    return frame, selected


def compare_charts(records: list, frame: pd.DataFrame, selected: list[int], country: str | None) -> None:
    """Accuracy against cost, A versus B, grids and loss curves: side by side, or one tab each on a projector."""
    chosen = {int(i) for i in frame["run_id"]}
    groups = group_seeds([r for r in records if r.id in chosen], country)
    grid = "the world average" if country == WORLD else country
    note = f"CO₂ is priced under the sidebar's grid ({grid}) for every run, from its energy, so runs compare fairly."
    if not ui.presenting():
        st.caption(note)
    tabs = (
        st.tabs(["Accuracy against cost", "A versus B", "Grids", "Loss curves"])
        if ui.presenting()
        else [st.container() for _ in range(4)]
    )
    with tabs[0]:
        frontier_chart(groups)
    with tabs[1]:
        pair = a_versus_b(groups)
    with tabs[2]:
        if pair:
            repricing(pair[1])
        elif groups:
            repricing(groups[0])
    with tabs[3]:
        curves_overlay(selected, groups)
    if ui.presenting():
        st.caption(note)


ui.page_start(ui.PAGES.compare.title)
records = ui.get_store().list()
if records:
    compare_runs(records)
else:  # not st.stop(): the router draws the sidebar after the page
    no_runs_yet()
