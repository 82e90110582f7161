"""A technique carries its own facts: one record per technique, read without torch by the CLI, pages and estimate."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from efficiency.cli import main
from efficiency.config import TechniqueSpec
from efficiency.errors import ConfigError
from efficiency.estimate import work_shares
from efficiency.fields import setting
from efficiency.techniques import FACTS, PILLARS, REGISTRY, Technique, TechniqueFacts, Work, register, unregister
from efficiency.techniques.facts import STAGES
from efficiency.techniques.hooks import HOOK_NAMES
from tests.conftest import tiny_config

ROOT = Path(__file__).resolve().parents[1]


def with_techniques(*specs: tuple[str, dict]) -> Any:
    config = tiny_config()
    config.techniques = [TechniqueSpec(n, p) for n, p in specs]
    return config


# --- the facts themselves -------------------------------------------------------------------------------------
def test_importing_the_techniques_and_reading_their_facts_leaves_torch_unloaded():
    code = (
        "import sys, json\n"
        "import efficiency.techniques as t\n"
        "json.dumps([t.describe(n) for n in t.FACTS])\n"
        "print(len(t.FACTS), 'torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    count, torch_loaded = out.stdout.split()
    assert int(count) == len(FACTS) and torch_loaded == "False", out.stdout


@pytest.mark.parametrize("name", list(FACTS))
def test_each_technique_has_its_facts_and_a_rule_at_its_defaults(name):
    facts = FACTS[name]
    assert REGISTRY[name].facts is facts, "registered with its hooks"
    assert facts.title and facts.summary and facts.lesson and facts.citation
    assert facts.pillar in PILLARS and facts.stage in STAGES
    shares = work_shares(with_techniques((name, {})), num_layers=6)
    assert set(shares["rules"]) - {"full fine-tuning"}, "priced by a rule of its own, in words"
    assert all(
        text in [*facts.rules.values(), shares["rules"]["full fine-tuning"]] for text in shares["rules"].values()
    )


def test_the_pillars_are_those_the_experiment_page_shows():
    by_pillar = {p: [f.name for f in FACTS.values() if f.pillar == p] for p in PILLARS}
    assert by_pillar == {
        "data": ["filter"],
        "effort": ["lora", "prefix", "ia3", "bitfit", "freeze", "probe"],
        "compute": ["distill", "prune", "amp", "quant"],
    }
    assert {f.name for f in FACTS.values() if f.reshapes_model} == {"prune", "quant", "distill"}


def test_one_of_an_exclusive_group_at_a_time():
    from efficiency.techniques import validate_techniques

    with pytest.raises(ConfigError, match="lora and probe each choose what trains"):
        validate_techniques(with_techniques(("probe", {}), ("lora", {})))


def test_freeze_is_priced_by_the_models_real_layer_count():
    config = with_techniques(("freeze", {"train_top_layers": 2}))
    assert work_shares(config, num_layers=6)["backward_share"] == pytest.approx(2 / 6)
    assert work_shares(config, num_layers=12)["backward_share"] == pytest.approx(2 / 12)
    with pytest.raises(ConfigError, match="layer count"):
        work_shares(config)  # not known: refused rather than priced for some other model


def test_a_calibration_without_the_layer_count_is_measured_again(monkeypatch, tmp_path):
    from efficiency import estimate

    monkeypatch.setattr(estimate, "_calibration_file", lambda: tmp_path / "calibration.json")
    old = {"model": "minilm", "device": "cpu", "host": "h", "train_flops_per_token": 1.0, "flops_per_s": 1.0,
           "step_wall_s": 1.0, "measured_at": 0.0, "torch_threads": 1}  # fmt: skip
    (tmp_path / "calibration.json").write_text(json.dumps({estimate._key("minilm", "cpu"): old}))
    assert estimate.load_calibration("minilm", "cpu") is None
    estimate.save_calibration(estimate.Calibration(**old, num_layers=6))
    assert estimate.load_calibration("minilm", "cpu").num_layers == 6


# --- the hooks: one documented list ------------------------------------------------------------------------------
def test_every_hook_the_pipeline_dispatches_on_is_in_the_protocol():
    source = (ROOT / "efficiency" / "techniques" / "__init__.py").read_text(encoding="utf-8")
    asked = set(re.findall(r'(?:_with|_hook\(\w+,|getattr\(\w+,|hasattr\(\w+,)\s*\(?"(\w+)"', source))
    assert {"check", "transform_model", "priority", "stage_of", "keep_last_epoch"} <= asked, asked
    assert asked <= HOOK_NAMES, f"not documented in hooks.py: {asked - HOOK_NAMES}"


@pytest.mark.parametrize("name", list(FACTS))
def test_no_technique_defines_a_hook_the_protocol_does_not_list(name):
    defined = {n for cls in REGISTRY[name].__mro__[:-1] for n in vars(cls) if not n.startswith("_")}
    assert defined - {"facts"} <= HOOK_NAMES, f"{name}: {defined - {'facts'} - HOOK_NAMES} (a misspelt hook?)"


# --- no technique's name written outside its own module ------------------------------------------------------------
KNOWN_EXCEPTIONS: set[str] = set()


def test_no_technique_name_is_written_outside_the_techniques():
    files = [*ROOT.glob("efficiency/**/*.py"), *ROOT.glob("pages/*.py"), ROOT / "app.py"]
    allowed = {"efficiency/presets.py", *KNOWN_EXCEPTIONS}
    names = "|".join(map(re.escape, FACTS))
    pattern = re.compile(rf"""["']({names})["']""")
    found = []
    for path in files:
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith("efficiency/techniques/") or relative in allowed:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            found += [f"{relative}:{number}: {line.strip()}" for _ in pattern.finditer(line)]
    assert not found, "use the techniques' facts (a flag, a pillar, a group) instead:\n" + "\n".join(found)


# --- a technique of one's own: one module, one register call -----------------------------------------------------
@dataclass
class ShrinkConfig:
    layers_dropped: int = setting(1, "How many layers the (imaginary) technique drops.")


class Shrink(Technique):
    def transform_model(self, model: Any, ctx: Any) -> Any:
        return model


SHRINK_RULE = "the layers left over the model's layers (a test's own rule)"


def shrink_work(settings: Mapping[str, Any], num_layers: int | None) -> Work:
    assert num_layers, "the estimate passes the model's real layer count"
    return Work(SHRINK_RULE, layer_share=(num_layers - settings["layers_dropped"]) / num_layers)


@pytest.fixture
def shrink():
    register(
        TechniqueFacts(
            name="shrink-test",
            title="Shrinking (test)",
            pillar="compute",
            stage="model",
            summary="Drop layers (registered by a test only).",
            lesson="A technique of one's own is one record and one class.",
            citation="Nobody (2025).",
            config=ShrinkConfig,
            work=shrink_work,
            rules={"": SHRINK_RULE},
        ),
        hooks=Shrink,
    )
    yield FACTS["shrink-test"]
    unregister("shrink-test")


def test_a_registered_technique_is_listed_and_priced_by_its_own_rule(shrink, capsys):
    assert main(["techniques", "list", "--json"]) == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    assert rows["shrink-test"]["title"] == "Shrinking (test)" and rows["shrink-test"]["pillar"] == "compute"
    assert rows["shrink-test"]["fields"][0]["name"] == "layers_dropped"
    shares = work_shares(with_techniques(("shrink-test", {"layers_dropped": 2})), num_layers=8)
    assert shares["layer_share"] == pytest.approx(6 / 8)
    assert shares["rules"]["Shrinking (test)"] == SHRINK_RULE


# --- the README's technique table --------------------------------------------------------------------------------
def test_the_readme_table_names_every_technique_with_its_title():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [f.name for f in FACTS.values() if f"| `{f.name}` | {f.title} |" not in readme]
    assert not missing, f"README's technique table lacks a row '| `name` | title |' for {missing}"
