"""Experiment: choose a model and a dataset, switch techniques on, see the predicted cost, train, watch."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import streamlit as st

from efficiency import charts, paths, ui
from efficiency.config import DataConfig, MeasureConfig, RunConfig, TechniqueSpec, TrainConfig
from efficiency.data import list_datasets, resolve, userfile
from efficiency.errors import EfficiencyError
from efficiency.fields import help_of
from efficiency.model_names import HUB_SUGGESTIONS, MINILM, TFIDF, TINY
from efficiency.preview import load_tokenizer, preview_dataset
from efficiency.runs import checks
from efficiency.techniques import FACTS, PILLARS, group, in_pillar
from efficiency.techniques.facts import WHAT_TRAINS
from efficiency.ui import forms

MODELS = {
    MINILM: "MiniLM: all-MiniLM-L6-v2, 22M parameters (offline)",
    TINY: "Tiny BERT: 2 layers, random init (seconds; for a quick look)",
    TFIDF: "TF-IDF + logistic regression (the classical baseline)",
    "other": "Another model: a Hugging Face Hub id or a local folder",
}
UPLOAD = "⬆ your own CSV/TSV file"
# An exclusive group (its members replace each other) is one radio: its label, what 'none' means, its help, its key.
GROUP_RADIOS = {
    WHAT_TRAINS: (
        "Parameter-efficient fine-tuning",
        "none: train every weight",
        "One at a time: each decides which parameters train.",
        "exp.peft",
    )
}
ADVANCED_TRAIN = [
    "epochs",
    "batch_size",
    "measure_batch_size",
    "learning_rate",
    "warmup_ratio",
    "dropout",
    "weight_decay",
    "max_grad_norm",
    "length_buckets",
    "eval_batch_size",
    "time_limit_s",
]


# --- cached reads -------------------------------------------------------------------------------------------
@st.cache_data(ttl=60, show_spinner=False)
def catalog_rows() -> list[dict[str, Any]]:
    return list_datasets()


@st.cache_data(show_spinner="Reading the dataset and counting its tokens…", max_entries=16)
def cached_preview(data_json: str, model: str, seed: int) -> Any:
    import json

    return preview_dataset(DataConfig(**json.loads(data_json)), model, seed, held_tokenizer=preview_tokenizer(model))


@st.cache_resource(show_spinner=False, max_entries=4)
def preview_tokenizer(model: str) -> tuple[Any, str]:
    """The tokenizer behind the preview, loaded once per model for the whole server (never mutated)."""
    return load_tokenizer(model)


def save_upload(upload: Any) -> Path:
    """Keep an uploaded file in the app-data folder (the worker reads it from there), copied as a stream."""
    return userfile.save_upload(upload, upload.name, paths.uploads_dir())


# --- the page -------------------------------------------------------------------------------------------------
def base_config() -> RunConfig:
    """Defaults, or the settings of the run named in ?from= (to change one thing and run again)."""
    source = st.query_params.get("from")
    if source and source != st.session_state.get("exp-from"):  # leaving the page drops the URL's ?from=
        for key in [k for k in st.session_state if str(k).startswith("exp.")]:
            del st.session_state[key]  # new starting point: the widgets take its values
        st.session_state["exp-from"] = source
    if source and source.isdigit():
        record = ui.get_store().get(int(source))
        if record is not None:
            config = RunConfig.from_dict(record.config)
            config.name = ""
            return config
    return RunConfig()


def pick_model(base: RunConfig) -> str:
    # The Hub's suggestions (a Marathi BERT...) only where the Hub answers: offline they could not load.
    models = {**MODELS, **(HUB_SUGGESTIONS if ui.hub_online() else {})}
    models["other"] = models.pop("other")
    known = base.model.name if base.model.name in models else "other"
    choice = st.selectbox(
        "Model",
        list(models),
        index=list(models).index(known),
        format_func=models.get,
        help=help_of(type(base.model), "name"),
        key="exp.model",
        persist_state="session",
    )
    if choice != "other":
        return choice
    return st.text_input(
        "Hub id or local folder",
        value="" if known != "other" else base.model.name,
        placeholder="bert-base-multilingual-cased",
        key="exp.model.other",
        persist_state="session",
        help="Needs a network for a Hub id (or the model in the local Hugging Face cache).",
    ).strip()


def pick_dataset(base: RunConfig) -> DataConfig | None:
    rows = catalog_rows()
    names = [r["name"] for r in rows if r["present"]] + [r["name"] for r in rows if not r["present"]]
    present = {r["name"] for r in rows if r["present"]}
    options = [*names, UPLOAD]
    start = base.data.dataset if base.data.dataset in names else UPLOAD if Path(base.data.dataset).suffix else None
    chosen = st.selectbox(
        "Dataset",
        options,
        index=options.index(start) if start in options else options.index("nusax-senti/javanese"),
        format_func=lambda n: n if n in present or n == UPLOAD else f"{n} (not in the data folder)",
        help=help_of(DataConfig, "dataset"),
        key="exp.dataset",
        persist_state="session",
    )
    if chosen != UPLOAD:
        if chosen not in present:
            st.warning(
                f"{chosen} is not in the data folder. With a network: `python -m efficiency data download {chosen}`; "
                "offline, copy its files there (see `python -m efficiency data list`)."
            )
            return None
        return DataConfig(dataset=chosen)
    return pick_own_file()


def pick_own_file() -> DataConfig | None:
    """The user's own CSV/TSV (kept across page visits) and its text and label columns."""
    upload = st.file_uploader(
        "Your labelled texts",
        type=["csv", "tsv", "txt"],
        max_upload_size=userfile.MAX_FILE_MIB,
        help="A CSV or TSV with a header row: one column of text, one of labels, and optionally a 'split' column "
        "(train/valid/test). At least 5 rows per class; without a split column it is split 80/10/10, stratified.",
        key="exp.upload",
    )
    kept = st.session_state.get("exp-upload-path")  # a file uploaded before a visit to another page
    if upload is None and not (kept and Path(kept).exists()):
        return None
    try:
        path = save_upload(upload) if upload is not None else Path(kept)
        st.session_state["exp-upload-path"] = str(path)
        if upload is None:
            st.caption(f"Using {ui.escaped(path.name[13:])}, uploaded earlier; upload another file to replace it.")
        header = userfile.read_header(path)
    except EfficiencyError as exc:
        st.session_state.pop("exp-upload-path", None)
        ui.show_error(str(exc))
        return None
    left, right = st.columns(2)
    text_col = left.selectbox(
        "Text column", header, key="exp.textcol", help=help_of(DataConfig, "text_column"), persist_state="session"
    )
    label_col = right.selectbox(
        "Label column",
        header,
        index=min(1, len(header) - 1),
        key="exp.labelcol",
        persist_state="session",
        help=help_of(DataConfig, "label_column"),
    )
    return DataConfig(dataset=str(path), text_column=text_col, label_column=label_col)


def dataset_card(data: DataConfig) -> None:
    try:
        family = resolve(data.dataset).family
    except EfficiencyError:
        st.caption(f"Your file: {ui.escaped(Path(data.dataset).name[13:])}")
        return
    ref = resolve(data.dataset)
    languages = (
        f"Language: {ref.language} (one of {len(family.languages)}: {', '.join(family.languages)})."
        if family.languages
        else "Language: Marathi."
    )
    st.caption(
        f"**{family.title}**: {family.task}. {languages} {family.note} Licence: {family.license}. "
        f"Cite: {family.citation} Source: {family.source}."
    )


def show_preview(data: DataConfig, model: str, seed: int) -> Any:
    try:
        preview = cached_preview(_json(data), model, seed)
    except EfficiencyError as exc:
        ui.show_error(str(exc))
        return None
    with st.expander("Preview the data", expanded=not ui.presenting()):
        cols = st.columns(4)
        for column, split in zip(cols, ("train", "valid", "test"), strict=False):
            column.metric(
                f"{split} examples",
                f"{preview.sizes[split]:,}",
                help="Examples in this split, as the run will read them (after 'limit train').",
            )
        cols[3].metric(
            "truncated",
            f"{preview.truncated_share:.1%}",
            help=f"Training texts longer than {preview.max_length} tokens, cut there.",
        )
        st.dataframe(preview.samples, hide_index=True, width="stretch")
        ui.chart_row(
            [
                ("Class balance", charts.class_balance(preview.class_counts.to_dict())),
                ("Token lengths", charts.token_lengths(preview.train_lengths, preview.max_length)),
            ],
            key="preview",
        )
        if preview.tokenizer_note:
            st.caption(ui.escaped(preview.tokenizer_note))
    return preview


def _json(data: DataConfig) -> str:
    import json

    return json.dumps(dataclasses.asdict(data), sort_keys=True)


def pick_techniques(base: RunConfig, model: str, dataset: str) -> list[TechniqueSpec]:
    if model == TFIDF:
        st.info("Techniques act on transformers: the TF-IDF baseline trains as it is, in about a second.")
        return []
    current = {t.name: t.params for t in base.techniques}
    chosen: list[TechniqueSpec] = []
    for column, pillar in zip(st.columns(len(PILLARS)), PILLARS, strict=True):
        with column:
            ui.pillar_heading(pillar)
            shown: set[str] = set()
            for facts in in_pillar(pillar):
                if facts.exclusive is None:
                    chosen += _toggle(facts.name, current, model, dataset)
                elif facts.exclusive not in shown:
                    shown.add(facts.exclusive)
                    chosen += _choose_one(facts.exclusive, current)
    return chosen


def _choose_one(exclusive: str, current: dict[str, dict]) -> list[TechniqueSpec]:
    """An exclusive group as one radio: none, or one of its members with its settings."""
    label, none, help_text, key = GROUP_RADIOS.get(
        exclusive,
        (exclusive.capitalize(), "none", f"One at a time: each decides {exclusive}.", f"exp.group.{exclusive}"),
    )
    members = ["none", *(f.name for f in group(exclusive))]
    start = next((n for n in members if n in current), "none")
    name = st.radio(
        label,
        members,
        index=members.index(start),
        format_func=lambda n: none if n == "none" else FACTS[n].title,
        help=f"{help_text} " + " ".join(f"{FACTS[n].title}: {FACTS[n].summary}" for n in members[1:]),
        key=key,
        persist_state="session",
    )
    if name == "none":
        return []
    st.caption(FACTS[name].lesson)
    return [TechniqueSpec(name, forms.technique_settings(name, current.get(name, {})))]


def _toggle(name: str, current: dict[str, dict], model: str, dataset: str) -> list[TechniqueSpec]:
    facts = FACTS[name]
    on = st.toggle(
        facts.title,
        value=name in current,
        help=forms.technique_help(name),
        key=f"exp.on.{name}",
        persist_state="session",
    )
    if not on:
        return []
    with st.container(border=True):
        st.caption(facts.summary)
        special = {}
        if facts.teacher_setting:  # a list of the kept runs that can teach, not free text
            special[facts.teacher_setting] = lambda f, value: forms.teacher_widget(name, f, value, model, dataset)
        return [TechniqueSpec(name, forms.technique_settings(name, current.get(name, {}), special))]


def advanced(base: RunConfig) -> dict[str, Any]:
    with st.expander("Advanced: training, data and measurement settings"):
        left, right = st.columns(2)
        with left:
            train = forms.settings_of(TrainConfig, base.train, ADVANCED_TRAIN, "exp.train")
        with right:
            data = forms.settings_of(DataConfig, base.data, ["limit_train", "max_length"], "exp.data")
            run = forms.settings_of(RunConfig, base, ["seed", "device"], "exp.run")
            measure = forms.settings_of(MeasureConfig, base.measure, ["energy", "flops", "latency"], "exp.measure")
    return {"train": train, "data": data, "run": run, "measure": measure}


def run_identity(base: RunConfig) -> tuple[str, str, bool]:
    """The run's name, its note, and whether to keep the trained model."""
    left, middle, right = st.columns([2, 3, 1])
    name = left.text_input(
        "Name",
        value=base.name,
        key="exp.name",
        persist_state="session",
        max_chars=120,
        help=help_of(RunConfig, "name"),
        placeholder="e.g. LoRA r=4 on Javanese",
    )
    note = middle.text_input(
        "Note (optional)", value=base.note, key="exp.note", help=help_of(RunConfig, "note"), persist_state="session"
    )
    keep = right.checkbox(
        "Keep the trained model",
        value=base.save_model,
        key="exp.keep",
        help=help_of(RunConfig, "save_model"),
        persist_state="session",
    )
    return name, note, keep


def build(base: RunConfig) -> None:
    st.markdown("##### Model and data")
    left, right = st.columns(2)
    with left:
        model = pick_model(base)
    with right:
        data = pick_dataset(base)
    if data is not None:
        dataset_card(data)
    st.markdown("##### Techniques")
    techniques = pick_techniques(base, model, data.dataset if data is not None else "")
    chosen = advanced(base)
    data_cfg = dataclasses.replace(data, **chosen["data"]) if data is not None else None
    preview = show_preview(data_cfg, model, chosen["run"]["seed"]) if data_cfg is not None and model else None
    st.markdown("##### Run")
    name, note, keep = run_identity(base)
    if not model or data_cfg is None:
        st.info("Choose a model and a dataset to go on.")
        return
    config = RunConfig(
        name=name.strip() or default_name(model, data_cfg, techniques),
        note=note,
        model=dataclasses.replace(base.model, name=model),
        data=data_cfg,
        train=dataclasses.replace(base.train, **chosen["train"]),
        measure=dataclasses.replace(base.measure, **chosen["measure"]),
        techniques=techniques,
        save_model=keep,
        **chosen["run"],
    )
    train_button(config, preview)


def train_button(config: RunConfig, preview: Any) -> None:
    """The config's first problem in words, its predicted cost, and Train (disabled while a problem stands)."""
    problem = checks.problem(config)
    predicted = ui.predicted_cost(config, preview) if problem is None else None
    if problem:
        ui.show_error(problem)
    if st.button(
        "Train",
        type="primary",
        disabled=problem is not None or preview is None,
        key="exp.train-button",
        help="Queues the run; a background worker trains it while this page stays responsive.",
    ):
        run_id = ui.submit(config, predicted)
        if run_id is not None:
            st.query_params["run"] = str(run_id)
            st.rerun()


def default_name(model: str, data: DataConfig, techniques: list[TechniqueSpec]) -> str:
    what = " + ".join(t.name for t in techniques) or ("baseline" if model == TFIDF else "full fine-tuning")
    dataset = Path(data.dataset).name[13:] if Path(data.dataset).suffix else data.dataset
    return f"{model} {what} on {dataset}"[:120]  # the name box's own limit: a long folder name is cut


ui.page_start(ui.PAGES.experiment.title)
watched = st.query_params.get("run")
if watched and watched.isdigit():
    ui.watch(int(watched))
    st.divider()
    st.subheader("Next experiment")
build(base_config())
