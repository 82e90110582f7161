"""A lesson's minutes on this machine, estimated from its calibration (efficiency/estimate.py), labelled so."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from efficiency.errors import EfficiencyError
from efficiency.lessons.plan import Plan
from efficiency.model_names import TFIDF

TFIDF_S = 2.0  # TF-IDF + logistic regression: 0.9 s of training measured on NusaX-senti javanese (README)
METHOD = (
    "estimate: each run's training and evaluation time from this machine's calibration and the dataset's "
    f"token counts (efficiency/estimate.py), {TFIDF_S:.0f} s for a TF-IDF run; loading the model and timing "
    "latency are not included"
)


@dataclass(frozen=True)
class Minutes:
    total: float | None  # every run of the lesson, as if none were stored (None: no calibration yet)
    left: float | None  # the runs not yet finished or under way
    method: str
    missing_calibrations: tuple[str, ...] = ()  # models to calibrate (`python -m efficiency calibrate --model`)
    problems: tuple[str, ...] = ()  # why a run could not be estimated (a dataset not in the data folder, ...)


def estimate_minutes(plan: Plan) -> Minutes:
    """The lesson's estimated minutes; None where a model has no calibration on this machine yet."""
    from efficiency.estimate import estimate_run, load_calibration
    from efficiency.preview import load_tokenizer, preview_dataset
    from efficiency.runs.checks import device_name

    previews: dict[tuple[str, str], Any] = {}
    tokenizers: dict[str, Any] = {}
    missing: set[str] = set()
    problems: list[str] = []
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
                try:
                    held = tokenizers.get(config.model.name) or load_tokenizer(config.model.name)
                    tokenizers[config.model.name] = held
                    previews[key] = preview_dataset(config.data, config.model.name, config.seed, held)
                except EfficiencyError as exc:
                    problems.append(str(exc))
                    previews[key] = None
            if previews[key] is None:
                continue
            seconds = estimate_run(config, previews[key].tokens, calibration)["train_eval_wall_s"]
        total += seconds
        if item.status == "missing":
            left += seconds
    if missing or problems:
        return Minutes(None, None, METHOD, tuple(sorted(missing)), tuple(dict.fromkeys(problems)))
    return Minutes(total / 60, left / 60, METHOD)
