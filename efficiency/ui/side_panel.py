"""The sidebar every page shares: presentation mode, the country that prices CO2, the queue, the teacher's settings."""

from __future__ import annotations

import dataclasses

import streamlit as st

from efficiency import lab_settings
from efficiency.measure.carbon import WORLD, countries, intensity_g_per_kwh, resolve_country
from efficiency.runs.calibrations import active_calibrations
from efficiency.ui.display import STATUS_ICONS, presentation_css
from efficiency.ui.identity import name_box, pin_guard, teacher_unlocked
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
        st.fragment(run_every=5.0)(queue_panel)()
        with st.expander("Teacher settings"):
            if pin_guard().pin is not None:
                st.text_input(
                    "Teacher PIN",
                    type="password",
                    key="teacher-pin",
                    help="Set by $EFFLAB_TEACHER_PIN when the app was started.",
                )
            if not teacher_unlocked():
                message = (st.session_state.get("teacher-pin-checked") or ("", False, ""))[2]
                if message:
                    st.caption(message)
                limit = lab_settings.load().time_limit_min
                st.caption(f"Longest run allowed: {f'{limit:g} minutes' if limit else 'no limit'}.")
                return presentation_css()
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
    presentation_css()


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
        page_link(
            PAGES.experiment,
            where=st,
            label=f"Run {record.id}: {state} on {record.device}",  # short: the sidebar is narrow
            icon=STATUS_ICONS[record.status],
            help=f"{escaped(record.name or 'unnamed')}: opens its live view.",
            query_params={"run": str(record.id)},
        )
