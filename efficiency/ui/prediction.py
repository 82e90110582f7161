"""The Experiment page's predicted cost: from this machine's calibration (measured once, in the background)
and the dataset's token counts, labelled an estimate with its method and rules."""

from __future__ import annotations

from typing import Any

import streamlit as st

from efficiency import estimate, lab_settings
from efficiency.config import RunConfig
from efficiency.errors import EfficiencyError
from efficiency.estimate import estimate_run
from efficiency.figures import human
from efficiency.model_names import TFIDF
from efficiency.runs.calibrations import auto_calibrate, calibrating, start_calibration
from efficiency.runs.checks import device_name
from efficiency.ui.pacing import refresh_s
from efficiency.ui.plain import show_error, show_warning
from efficiency.ui.resources import get_store


def predicted_cost(config: RunConfig, preview: Any) -> dict[str, Any] | None:
    """The predicted cost, from this machine's calibration and the dataset's token counts (None: none yet)."""
    st.markdown("##### Predicted cost")
    if config.model.name == TFIDF:
        st.caption("TF-IDF + logistic regression: about a second on a CPU; not estimated.")
        return None
    if preview is None:
        return None
    try:
        device = device_name(config)
    except EfficiencyError as exc:
        show_error(str(exc))
        return None
    calibration = _calibration(config.model.name, device)
    if calibration is None:
        return None
    power_w, power_source = estimate.device_power_w(get_store(), device, calibration)
    country = config.measure.country or st.session_state.get("country", "WORLD")
    predicted = estimate_run(config, preview.tokens, calibration, power_w, power_source, country)
    _prediction(predicted, config, power_source)
    _how_predicted(predicted, calibration, preview)
    return predicted


def _calibration(model: str, device: str) -> estimate.Calibration | None:
    """This machine's calibration for the model, or the way to get one (started, awaited, or retried)."""
    calibration = estimate.load_calibration(model, device)
    failure = estimate.calibration_error(model, device)
    if calibration is None and failure:
        show_warning(
            f"This machine could not be calibrated for {model}: {failure} No estimate, then; the run "
            "itself will say the same if it cannot load the model."
        )
        if st.button(
            "Try the calibration again",
            key="exp.recalibrate",
            help="Measures this machine again in the background (after any run in progress).",
        ):
            start_calibration(model, device)
            st.rerun()
        return None
    if calibration is None:
        if not calibrating(model, device):
            if not auto_calibrate(model) and not st.button(
                "Measure this machine for the estimate",
                key="exp.calibrate",
                help="One training step of this model, counted and timed in the background (about 10 s; a model "
                "not yet on this machine is downloaded first).",
            ):
                return None
            start_calibration(model, device)
        st.fragment(run_every=refresh_s(2.0, most_s=10.0))(_calibration_wait)(model, device)
    return calibration


def _prediction(predicted: dict[str, Any], config: RunConfig, power_source: str) -> None:
    """The four predicted figures, labelled an estimate, and a warning when the run would pass the time limit."""
    cols = st.columns(4)
    cols[0].metric(
        "Training FLOPs",
        f"{predicted['train_flops']:.2g}",
        help="Floating-point operations of training, by this machine's calibration and the rules below.",
    )
    cols[1].metric(
        "Training + evaluation",
        f"{predicted['train_eval_wall_s']:.0f} s",
        help="Not counted: loading the model (a few seconds) and the measurements after training.",
    )
    cols[2].metric(
        "Energy",
        f"{human(predicted['energy_kwh'] * 1000)} Wh" if predicted["energy_kwh"] else "–",
        help=power_source
        or f"Needs this device's average power: finish one run, or measure it with `python -m efficiency calibrate "
        f"--model {config.model.name}` (a calibration from an older version has none).",
    )
    cols[3].metric(
        "CO₂eq",
        f"{human(predicted['co2_kg'] * 1000)} g" if predicted["co2_kg"] else "–",
        help="The predicted energy priced under the sidebar's grid.",
    )
    st.markdown(":orange-badge[estimated]", help=predicted["method"])
    limit_s = config.train.time_limit_s or lab_settings.load(get_store()).time_limit_s
    if limit_s and predicted["train_eval_wall_s"] > limit_s:
        st.warning(
            f"Longer than the longest run allowed ({limit_s / 60:.0f} min): it will stop there and test the best "
            "model so far. Fewer epochs, 'limit train' or a technique would fit."
        )


def _how_predicted(predicted: dict[str, Any], calibration: estimate.Calibration, preview: Any) -> None:
    with st.popover(
        "How this is predicted", help="The calibration of this device and the rules of thumb behind the numbers above."
    ):
        st.markdown(f"{predicted['method']}.")
        st.markdown(
            f"This device: {calibration.flops_per_s / 1e9:.1f} GFLOP/s in training, "
            f"{calibration.train_flops_per_token / 1e6:.0f} MFLOP per token per training step. "
            f"Tokens after truncation: {preview.tokens.train:,} (train), {preview.tokens.valid:,} (valid), "
            f"{preview.tokens.test:,} (test)."
        )
        for rule, text in predicted["rules"].items():
            st.markdown(f"- **{rule}**: {text}")


def _calibration_wait(model: str, device: str) -> None:
    if estimate.load_calibration(model, device) is not None or estimate.calibration_error(model, device):
        st.rerun()
    st.info(
        f"Measuring this machine once for {model} on {device} (about 10 seconds, after any run in progress): "
        "the estimate appears here then.",
        icon=":material/timer:",
    )
