"""A lesson's minutes on this machine, estimated from its calibration (efficiency/estimate.py), labelled so."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from efficiency.lessons.plan import Plan
from efficiency.model_names import TFIDF

TFIDF_S = 5.0  # TF-IDF + logistic regression: measured about a second to fit on NusaX-senti; loading adds more
METHOD = (
    "estimate: each missing run's training and evaluation time from this machine's calibration and the "
    "dataset's token counts (efficiency/estimate.py); loading the model and timing latency are not included"
)


@dataclass(frozen=True)
class Minutes:
    total: float | None  # every run of the lesson, as if none were stored (None: no calibration yet)
    left: float | None  # the runs not yet finished or under way
    method: str
    missing_calibrations: tuple[str, ...] = ()  # models to calibrate (`python -m efficiency calibrate --model`)


def estimate_minutes(plan: Plan) -> Minutes:
    """The lesson's estimated minutes; None where a model has no calibration on this machine yet."""
    from efficiency.estimate import estimate_run, load_calibration
    from efficiency.preview import load_tokenizer, preview_dataset
    from efficiency.runs.checks import device_name

    previews: dict[tuple[str, str], Any] = {}
    tokenizers: dict[str, Any] = {}
    missing: set[str] = set()
    total = left = 0.0
    for item in plan.items:
        config = item.config
        if config.model.name == TFIDF:
            seconds = TFIDF_S
        else:
            calibration = load_calibration(config.model.name, device_name(config))
            if calibration is None:
                missing.add(config.model.name)
                continue
            key = (config.model.name, repr(config.data))  # token counts barely move with the seed's subsample
            if key not in previews:
                held = tokenizers.setdefault(config.model.name, load_tokenizer(config.model.name))
                previews[key] = preview_dataset(config.data, config.model.name, config.seed, held)
            seconds = estimate_run(config, previews[key].tokens, calibration)["train_eval_wall_s"]
        total += seconds
        if item.status == "missing":
            left += seconds
    if missing:
        return Minutes(None, None, METHOD, tuple(sorted(missing)))
    return Minutes(total / 60, left / 60, METHOD)
