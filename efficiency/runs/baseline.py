"""The classical baseline's recipe: fit TF-IDF + logistic regression, measured on the same sheet.

Its FLOPs are not counted: scikit-learn runs no torch operators. It runs on the CPU whatever the
device setting, so it never holds (or is labelled with) a GPU.
"""

from __future__ import annotations

import torch

from efficiency import baselines, paths
from efficiency.measure.energy import EnergyMeter
from efficiency.measure.memory import RSS_METHOD, PeakMemory
from efficiency.runs import disk_cap
from efficiency.runs.recipe import Prepared, RecipeResult, RunHooks
from efficiency.runs.sheet import LATENCY_EXAMPLES, Sheet

MODEL_SOURCE = "scikit-learn TF-IDF (word 1-2, char 2-5 grams) + logistic regression"
PARAMS_METHOD = "logistic-regression weights and biases"


def run(prepared: Prepared, hooks: RunHooks) -> RecipeResult:
    """Fit, predict the test split, measure: the baseline read top to bottom."""
    config, dataset, timer = prepared.config, prepared.dataset, prepared.timer
    cpu = torch.device("cpu")
    energy = EnergyMeter(cpu, enabled=config.measure.energy)
    pipeline = baselines.make_pipeline(config.seed)
    with PeakMemory(cpu) as memory:
        energy.start()
        try:
            with timer.phase("train"):
                baselines.fit(pipeline, dataset.train)
            with timer.phase("test"):
                predictions = baselines.predict(pipeline, dataset.test.texts)
        finally:
            reading = energy.stop()

    sheet = Sheet()
    sheet.test_predictions(dataset.test.texts, dataset.test.labels, predictions, dataset.label_names, where="")
    sheet.put("train_wall_s", timer.wall_s["train"], "measured", "wall clock of fitting TF-IDF and logistic regression")
    sheet.put("eval_wall_s", timer.wall_s["test"], "measured", "wall clock of predicting the test split")
    sheet.put("train_flops", None, "counted", "not counted: scikit-learn runs no torch operators")
    sheet.energy(reading, config.measure.country or "WORLD")
    sheet.put("peak_memory_mb", memory.peak_rss_mb, "measured", RSS_METHOD.format(interval_s=memory.interval_s))
    params = baselines.parameter_count(pipeline)
    sheet.put("total_params", params, "counted", PARAMS_METHOD)
    sheet.put("trainable_params", params, "counted", PARAMS_METHOD)
    sheet.put("vocabulary_size", baselines.vocabulary_size(pipeline))
    sheet.put("model_size_mb", baselines.saved_size_mb(pipeline), "measured", baselines.SIZE_METHOD)
    texts = dataset.test.texts[:LATENCY_EXAMPLES]
    if config.measure.latency and texts:
        sheet.latency(lambda idx: pipeline.predict([texts[i] for i in idx]), len(texts), config.measure.latency_repeats)
    sheet.put("examples_seen", len(dataset.train))
    sheet.put("dataset", dataset.summary())
    sheet.put("model_source", MODEL_SOURCE)
    sheet.put("techniques", {})

    model_path = None
    refused = disk_cap.make_room(hooks.store, sheet.metrics["model_size_mb"]) if config.save_model else None
    if refused:  # the teacher's cap on kept models' disk use: the figures are kept, the model is not
        sheet.put("save_error", refused)
    elif config.save_model:
        model_path = baselines.save(pipeline, dataset.label_names, paths.models_dir() / f"run-{hooks.run_id}")
    return RecipeResult("finished", config, sheet.record(), {"train": [], "valid": []}, model_path,
                        {"energy": reading.details})  # fmt: skip
