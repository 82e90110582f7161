"""A technique carries its own facts: one record per technique, read without torch by the CLI, pages and estimate."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from efficiency.config import TechniqueSpec
from efficiency.errors import ConfigError
from efficiency.techniques import FACTS, PILLARS, REGISTRY
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
    settings = dataclasses.asdict(facts.config())  # its defaults
    assert facts.work(settings, 6).rule in facts.rules.values(), "priced by a rule of its own, in words"


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


# --- the README's technique table --------------------------------------------------------------------------------
def test_the_readme_table_names_every_technique_with_its_title():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [f.name for f in FACTS.values() if f"| `{f.name}` | {f.title} |" not in readme]
    assert not missing, f"README's technique table lacks a row '| `name` | title |' for {missing}"
