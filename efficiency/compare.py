"""Runs side by side: a flat table, seeds grouped, the Pareto frontier, A versus B, re-pricing (export: `export`).

The Compare page draws what this module computes; it holds no Streamlit and is tested alone.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from efficiency.export import export_runs as export_runs  # re-exported: the Compare page imports it here
from efficiency.figures import costs, figure, qualities
from efficiency.figures import human as human  # re-exported: pages/experiment.py imports it from here
from efficiency.measure.carbon import co2_kg, intensity_g_per_kwh
from efficiency.model_names import TFIDF
from efficiency.store import RunRecord
from efficiency.techniques import FACTS, in_words

NOT_COMPARED = ("seed", "name", "note", "save_model", "version", "measure")  # repeats of one experiment may differ
NOT_COMPARED_NESTED = {"train": ("time_limit_s",), "data": ("data_dir",)}  # in these too: they change no result


def technique_label(config: dict[str, Any]) -> str:
    """'lora(r=4) + quant', or 'full fine-tuning' (or the baseline's name) when no technique is on."""
    techniques = config.get("techniques", [])
    if not techniques:
        return "TF-IDF baseline" if config.get("model", {}).get("name") == TFIDF else "full fine-tuning"
    parts = []
    for spec in techniques:
        params = ",".join(f"{k}={_short(v)}" for k, v in sorted(spec.get("params", {}).items()))
        parts.append(f"{spec['name']}({params})" if params else spec["name"])
    return " + ".join(parts)


def experiment_in_words(config: dict[str, Any]) -> str:
    """An experiment named in words from the techniques' own facts: 'LoRA r=8 + int8 after training'."""
    techniques = config.get("techniques", [])
    if not techniques:
        return "TF-IDF baseline" if config.get("model", {}).get("name") == TFIDF else "Full fine-tuning"
    return " + ".join(technique_in_words(spec["name"], spec.get("params", {})) for spec in techniques)


def technique_in_words(name: str, params: dict[str, Any]) -> str:
    """One technique in words; a technique no longer registered keeps its stored name."""
    return in_words(name, params) if name in FACTS else name


def _short(value: Any) -> str:
    return "+".join(map(str, value)) if isinstance(value, list) else str(value)


def signature(config: dict[str, Any]) -> str:
    """What makes two runs repeats of one experiment: the whole config but the seed, name and note."""
    kept = {k: v for k, v in config.items() if k not in NOT_COMPARED}
    for section, names in NOT_COMPARED_NESTED.items():
        if isinstance(kept.get(section), dict):
            kept[section] = {k: v for k, v in kept[section].items() if k not in names}
    return json.dumps(kept, sort_keys=True, default=str)


def repriced(metrics: dict[str, Any], country: str | None) -> dict[str, Any]:
    """The metrics with CO2 priced under `country` (None: as the run priced it), so runs compare fairly."""
    if country is None or metrics.get("energy_kwh") is None:
        return metrics
    return {**metrics, "co2_kg": co2_kg(metrics["energy_kwh"], country), "country": country}


def run_frame(records: Sequence[RunRecord], country: str | None = None) -> pd.DataFrame:
    """One row per run: identity, techniques, quality, every cost, and the experiment signature."""
    rows = []
    for r in records:
        metrics = repriced(r.metrics or {}, country)
        rows.append(
            {
                "run_id": r.id,
                "name": r.name,
                "owner_name": r.owner_name or "",
                "status": r.status,
                "model": r.model,
                "dataset": r.dataset,
                "techniques": experiment_in_words(r.config),
                "technique_names": ", ".join(r.techniques) or "none",
                "seed": r.seed,
                "epochs": r.config.get("train", {}).get("epochs"),
                "device": r.device,
                "created_at": pd.to_datetime(r.created_at, unit="s"),
                **{f.key: metrics.get(f.key) for f in (*qualities(), *costs())},
                "energy_kind": metrics.get("energy_kind"),
                "other_cpu_share": metrics.get("other_cpu_share"),
                "country": metrics.get("country"),
                "signature": signature(r.config),
                "kept_model": bool(r.model_path),
            }
        )
    frame = pd.DataFrame(rows)
    if frame.empty:
        frame = pd.DataFrame(columns=["run_id", "name", "status", "model", "dataset", "techniques", "signature"])
    return frame


@dataclass
class Group:
    """One experiment: the runs that differ only in their seed."""

    label: str
    run_ids: list[int]
    seeds: list[int]
    mean: dict[str, float | None]
    sd: dict[str, float | None]
    config: dict[str, Any]

    @property
    def n(self) -> int:
        return len(self.run_ids)


def group_seeds(records: Sequence[RunRecord], country: str | None = None) -> list[Group]:
    """Group finished runs by experiment; the mean and sample sd over seeds of every figure.

    With `country`, CO2 is re-priced from each run's energy under that country's grid.
    """
    buckets: dict[str, list[RunRecord]] = {}
    for r in records:
        if r.status == "finished" and r.metrics:
            buckets.setdefault(signature(r.config), []).append(r)
    groups = []
    for members in buckets.values():
        members.sort(key=lambda r: r.id)
        mean, sd = {}, {}
        priced = [repriced(r.metrics, country) for r in members]
        for key in (f.key for f in (*qualities(), *costs())):
            values = [float(m[key]) for m in priced if m.get(key) is not None]
            mean[key] = statistics.fmean(values) if values else None
            sd[key] = statistics.stdev(values) if len(values) > 1 else None
        groups.append(
            Group(
                label=experiment_in_words(members[0].config),
                run_ids=[r.id for r in members],
                seeds=[r.seed for r in members],
                mean=mean,
                sd=sd,
                config=members[0].config,
            )
        )
    return _distinct_labels(sorted(groups, key=lambda g: g.run_ids[0]))


def _distinct_labels(groups: list[Group]) -> list[Group]:
    """Two experiments with the same techniques get what else sets them apart: 'full fine-tuning · tiny'."""
    by_label: dict[str, list[Group]] = {}
    for group in groups:
        by_label.setdefault(group.label, []).append(group)
    for same in by_label.values():
        if len(same) < 2:
            continue
        flats = [_flatten({k: v for k, v in g.config.items() if k != "techniques"}) | _settings(g.config) for g in same]
        # The model first, where it ran last ('auto' and 'cpu' rarely set results apart).
        order = sorted(set().union(*flats), key=lambda k: (k != "model.name", k == "device", k))
        differing = [
            key for key in order if not _ignored(key) and len({json.dumps(f.get(key), default=str) for f in flats}) > 1
        ]
        # As few settings as make every label unique; the first run's id when even all of them do not.
        for count in range(1, len(differing) + 1):
            suffixes = [", ".join(_short_setting(k, f.get(k)) for k in differing[:count]) for f in flats]
            if len(set(suffixes)) == len(same):
                break
        else:
            suffixes = [f"run {g.run_ids[0]}" for g in same]
        for group, suffix in zip(same, suffixes, strict=True):
            group.label = f"{group.label} · {suffix}"
    return groups


def _settings(config: dict[str, Any]) -> dict[str, Any]:
    """The techniques' settings as flat keys ('lora.target_modules'): what can set two 'LoRA r=8' apart."""
    return {f"{t['name']}.{k}": v for t in config.get("techniques", []) for k, v in t.get("params", {}).items()}


def _ignored(key: str) -> bool:
    section, _, name = key.partition(".")
    return section in NOT_COMPARED or name in NOT_COMPARED_NESTED.get(section, ())


def _short_setting(key: str, value: Any) -> str:
    """'tiny' for the model's name (the reader knows it), 'epochs 2' for any other setting."""
    return str(value) if key == "model.name" else f"{key.rpartition('.')[2].replace('_', ' ')} {_short(value)}"


def pareto_mask(costs: Sequence[float], qualities: Sequence[float]) -> list[bool]:
    """True for points no other point beats: at most the cost and at least the quality, better in one."""
    points = list(zip(costs, qualities, strict=True))
    return [
        not any((c2 <= c and q2 >= q) and (c2 < c or q2 > q) for j, (c2, q2) in enumerate(points) if j != i)
        for i, (c, q) in enumerate(points)
    ]


def baseline_of(group: Group, groups: Sequence[Group]) -> Group | None:
    """Full fine-tuning of the same model on the same dataset (the reference of every other run)."""
    model = group.config.get("model", {}).get("name")
    dataset = group.config.get("data", {}).get("dataset")
    for candidate in groups:
        cfg = candidate.config
        if (
            not cfg.get("techniques")
            and cfg.get("model", {}).get("name") == model
            and cfg.get("data", {}).get("dataset") == dataset
        ):
            return candidate
    return None


def config_diff(base: dict[str, Any], other: dict[str, Any]) -> list[str]:
    """Human-readable differences of `other` from `base` ('train.epochs: 3 → 2', '+ lora(r=4)')."""
    lines = []
    flat_base, flat_other = _flatten(base), _flatten(other)
    for key in sorted(set(flat_base) | set(flat_other)):
        section, _, name = key.partition(".")
        if section in (*NOT_COMPARED, "techniques") or name in NOT_COMPARED_NESTED.get(section, ()):
            continue
        if flat_base.get(key) != flat_other.get(key):
            lines.append(f"{key}: {flat_base.get(key)} → {flat_other.get(key)}")
    before = {technique_label({"techniques": [t]}) for t in base.get("techniques", [])}
    after = {technique_label({"techniques": [t]}) for t in other.get("techniques", [])}
    lines += [f"+ {t}" for t in sorted(after - before)] + [f"− {t}" for t in sorted(before - after)]
    return lines


def _flatten(config: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out = {}
    for key, value in config.items():
        if isinstance(value, dict):
            out.update(_flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def versus(a: Group, b: Group, quality: str = "accuracy") -> dict[str, Any]:
    """What B cost and bought against A: time and energy factors, quality points, CO2 saved, and noise."""
    out: dict[str, Any] = {"a": a.label, "b": b.label, "quality": quality}
    for key in ("train_wall_s", "train_flops", "energy_kwh"):
        ta, tb = a.mean.get(key), b.mean.get(key)
        out[f"{key}_factor"] = ta / tb if ta and tb else None  # > 1: B is cheaper by that factor
    qa, qb = a.mean.get(quality), b.mean.get(quality)
    out["quality_points"] = (qb - qa) * 100 if qa is not None and qb is not None else None
    ca, cb = a.mean.get("co2_kg"), b.mean.get("co2_kg")
    out["co2_saved_g"] = (ca - cb) * 1000 if ca is not None and cb is not None else None
    # Within noise: the difference is smaller than the seeds' combined spread (one sd each, added in quadrature).
    sa, sb = a.sd.get(quality), b.sd.get(quality)
    if sa is None and sb is None:
        out["noise_points"], out["within_noise"] = None, None
    else:
        noise = math.hypot(sa or 0.0, sb or 0.0) * 100
        out["noise_points"] = noise
        out["within_noise"] = out["quality_points"] is not None and abs(out["quality_points"]) <= noise
    return out


def charged_curve(record: RunRecord) -> list[dict[str, Any]]:
    """A run's training curve with the cost spent before its first step added: a distillation teacher
    trained in the job shifts the student's FLOPs and time, so runs overlaid on those axes line up fairly."""
    metrics = record.metrics or {}
    flops0, time0 = metrics.get("teacher_flops") or 0.0, metrics.get("teacher_wall_s") or 0.0
    points = (record.curves or {}).get("train") or []
    if not flops0 and not time0:
        return list(points)
    shifted = []
    for point in points:
        point = dict(point)
        if point.get("flops") is not None:
            point["flops"] += flops0
        if point.get("elapsed_s") is not None:
            point["elapsed_s"] += time0
        shifted.append(point)
    return shifted


def ratio_phrase(factor: float | None, more: str = "slower", less: str = "faster") -> str | None:
    """A's cost over B's in words: 3.1 -> '3.1x faster', 0.04 -> '25.7x slower' (never a bare 0.04x)."""
    if not factor:
        return None
    return f"{factor:.1f}x {less}" if factor >= 1 else f"{1 / factor:.1f}x {more}"


def versus_sentence(result: dict[str, Any]) -> str:
    """'3.1x faster, -0.8 accuracy points (within noise), 12 g CO2 saved'."""
    parts = []
    speed = ratio_phrase(result.get("train_wall_s_factor"))
    if speed:
        parts.append(speed)
    points = result.get("quality_points")
    if points is not None:
        name = figure(result["quality"]).label.lower()
        noise = result.get("within_noise")
        suffix = " (within noise)" if noise else "" if noise is False else " (one seed each: noise unknown)"
        parts.append(f"{points:+.1f} {name} points{suffix}")
    saved = result.get("co2_saved_g")
    if saved is not None:
        parts.append(f"{saved:.2g} g CO₂eq saved" if saved >= 0 else f"{-saved:.2g} g CO₂eq more")
    return ", ".join(parts)


# Grids from the cleanest to the most coal-heavy, across the continents the lab's languages come from.
REPRICE_COUNTRIES = ("FRA", "SWE", "NOR", "BRA", "GBR", "DEU", "USA", "IDN", "IND", "CHN", "ZAF", "NGA", "KEN", "POL")


def countries_to_reprice(home: str | None) -> list[str]:
    """The reader's own grid first (unless it is the world average), then the usual spread."""
    return list(dict.fromkeys([*([home] if home and home != "WORLD" else []), *REPRICE_COUNTRIES]))


def reprice(energy_kwh: float, countries: Sequence[str]) -> pd.DataFrame:
    """The same energy under other grids: CO2 per country, from CodeCarbon's carbon-intensity data."""
    rows = []
    for code in countries:
        intensity, source = intensity_g_per_kwh(code)
        rows.append(
            {
                "country": code,
                "g_per_kwh": intensity,
                "co2_g": co2_kg(energy_kwh, code) * 1000,
                "source": source,
            }
        )
    return pd.DataFrame(rows).sort_values("co2_g")
