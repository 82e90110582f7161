"""The sidebar every page shares: presentation mode, the country that prices CO2, the queue, the teacher's settings."""

from __future__ import annotations

import dataclasses

import streamlit as st

from efficiency import lab_settings
from efficiency.fair_queue import in_start_order
from efficiency.measure.carbon import WORLD, countries, intensity_g_per_kwh, resolve_country
from efficiency.runs.calibrations import active_calibrations
from efficiency.ui.display import STATUS_ICONS, presentation_css
from efficiency.ui.identity import class_mode, name_box, pin_guard, teacher_unlocked
from efficiency.ui.pacing import note_viewer, refresh_s
from efficiency.ui.plain import escaped
from efficiency.ui.resources import get_store
from efficiency.ui.router import PAGES, page_link


def chosen_country() -> str:
    """The country that prices CO2: the sidebar's choice, or this machine's (or the world's) before it is drawn."""
    if "country" not in st.session_state:
        st.session_state.country = resolve_country(None)
    return st.session_state.country


def sidebar() -> None:
    """The settings every page shares: presentation mode, the country that prices CO2, the teacher's limit."""
    with st.sidebar:
        name_box()  # a class server asks who is at this browser
        st.toggle(
            "Presentation mode",
            key="presentation",
            help="For a projector: large type, thick lines, one chart at a time. Colours are colour-blind safe "
            "(Okabe-Ito) in both modes.",
        )
        codes = [WORLD] + [code for code, _ in countries()]
        names = dict(countries())
        chosen_country()  # the default, before the widget reads its key
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
        st.fragment(run_every=refresh_s(5.0, most_s=20.0))(queue_panel)()
        # A key keeps it open while the panels above it redraw; without one a rerun could fold it shut.
        with st.expander("Teacher settings", key="teacher-settings"):
            if pin_guard().pin is not None:
                st.text_input(
                    "Teacher PIN",
                    type="password",
                    key="teacher-pin",
                    help="Set by $EFFLAB_TEACHER_PIN when the app was started.",
                )
            settings = lab_settings.load(get_store())
            if not teacher_unlocked():
                message = (st.session_state.get("teacher-pin-checked") or ("", False, ""))[2]
                if message:
                    st.caption(message)
                st.caption(settings_in_words(settings))
                return presentation_css()
            teacher_settings(settings)
    presentation_css()


def settings_in_words(settings: lab_settings.LabSettings) -> str:
    """The teacher's settings as a student reads them (read-only without the PIN)."""
    limit, cap = settings.time_limit_min, settings.models_cap_gib
    words = [f"Longest run allowed: {f'{limit:g} minutes' if limit else 'no limit'}."]
    if class_mode():
        quota = settings.queue_quota
        words.append(f"Requests waiting per student: {quota if quota else 'no limit'}.")
    words.append(f"Kept models may take {f'{cap:g} GiB' if cap else 'any disk space'}.")
    return " ".join(words)


def teacher_settings(current: lab_settings.LabSettings) -> None:
    """The settings the teacher changes: saved at once (in the class database when the store is shared)."""
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
    quota = current.queue_quota
    if class_mode():
        quota = st.number_input(
            "Requests waiting per student",
            min_value=0,
            max_value=100,
            value=int(current.queue_quota or 0),
            step=1,
            help="The most requests one student may have waiting in the queue (a lesson's runs count as one), "
            "so a student who queues ten runs does not fill the lesson. 0 means no limit.",
        )
    cap = st.number_input(
        "Disk for kept models (GiB)",
        min_value=0.0,
        max_value=10_000.0,
        value=float(current.models_cap_gib or 0.0),
        step=0.5,
        help="When a run would keep its model past this, the oldest kept models of ended runs are removed "
        "first; if that is not enough the new model is not kept (its run's figures are). 0 means no cap.",
    )
    wanted = dataclasses.replace(
        current,
        time_limit_min=float(limit) or None,
        queue_quota=(int(quota) or None) if class_mode() else current.queue_quota,
        models_cap_gib=float(cap) or None,
    )
    if wanted != current:
        lab_settings.save(wanted, get_store())
        st.toast("Settings saved.")


def queue_panel() -> None:
    """What the machine is doing for everyone: the run training on each device and the queue behind it."""
    note_viewer()  # every open browser redraws this panel at least every 20 s: the pace counts it
    store = get_store()
    active = in_start_order(store.active(), store.last_starts())  # queued runs numbered as they will start
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
        page_link(
            PAGES.experiment,
            where=st,
            label=f"Run {record.id}: {state} on {record.device}",  # short: the sidebar is narrow
            icon=STATUS_ICONS[record.status],
            help=f"{escaped(record.name or 'unnamed')}: opens its live view.",
            query_params={"run": str(record.id)},
        )
