"""A lesson file's schema: what each field holds, checked on load with a message naming the field.

A lesson is data a teacher can write (TOML): the question, the paper's claim, the runs that answer
it (each the train command's flags and its seeds) and the checks whose verdicts the lab computes
from the runs it measured. Free of torch and Streamlit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn

from efficiency.errors import EfficiencyError
from efficiency.figures import BY_KEY

if TYPE_CHECKING:
    from efficiency.config import RunConfig

PILLARS = ("data", "effort", "compute")
EXPECTS = ("lower", "higher", "ratio_below", "ratio_above", "within")
NEEDS_VALUE = ("ratio_below", "ratio_above", "within")
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")
ID_PATTERN = re.compile(r"^[a-z0-9_][a-z0-9_-]*$")


class LessonError(EfficiencyError):
    """A lesson file that cannot be used: the message names the file, the field and what to write."""


@dataclass(frozen=True)
class LessonRun:
    """One configuration of a lesson, trained once per seed."""

    id: str  # the checks name it
    label: str  # as the verdict's words say it
    args: str  # the train command's flags
    seeds: tuple[int, ...]


@dataclass(frozen=True)
class Check:
    """One claim about a figure of two runs, judged against the runs' seed-to-seed noise."""

    says: str
    metric: str  # a figure of the catalogue (efficiency/figures.py)
    left: str  # a run id
    right: str  # a run id
    expect: str  # one of EXPECTS
    value: float | None = None  # the threshold of ratio_below, ratio_above and within


@dataclass(frozen=True)
class Lesson:
    name: str
    title: str
    pillar: str
    question: str
    claim: str
    citation: str
    runs: tuple[LessonRun, ...]
    checks: tuple[Check, ...]
    watch: str = ""
    note: str = ""  # a caveat the lesson states up front (a model that cannot read the script, ...)
    explain: tuple[str, ...] = ()  # prompts for the student after the verdict
    tokenizer_lens: str = ""  # a model whose tokenizer the lesson shows at work on every language (lesson 7)
    source: str = ""  # the file it was read from

    def run(self, run_id: str) -> LessonRun:
        return next(r for r in self.runs if r.id == run_id)


TOP_FIELDS = {"name", "title", "pillar", "question", "claim", "citation", "watch", "note", "explain", "tokenizer_lens",
              "runs", "checks"}  # fmt: skip
RUN_FIELDS = {"id", "label", "args", "seeds"}
CHECK_FIELDS = {"says", "metric", "compare", "expect", "value"}


class _Fields:
    """Reads one table of the file, each mistake reported with the file, the field and what to write."""

    def __init__(self, raw: dict[str, Any], where: str, source: str, known: set[str]) -> None:
        self.raw, self.where, self.source = raw, where, source
        unknown = sorted(set(raw) - known)
        if unknown:
            self.fail(unknown[0], f"is not a lesson field; the fields here are {', '.join(sorted(known))}")

    def fail(self, name: str, what: str) -> NoReturn:
        raise LessonError(f"{self.source}: {self.where}{name} {what}.")

    def text(self, name: str, example: str, required: bool = True) -> str:
        value = self.raw.get(name)
        if value is None and not required:
            return ""
        if not isinstance(value, str) or not value.strip():
            self.fail(name, f'is {"missing" if value is None else "not a text"}: write {name} = "{example}"')
        return value.strip()


def parse_lesson(raw: dict[str, Any], source: str) -> Lesson:
    """A lesson from a parsed TOML document, or LessonError naming the first field that is wrong."""
    from efficiency.data import resolve
    from efficiency.data.userfile import looks_like_file
    from efficiency.flags import config_from_flags

    top = _Fields(raw, "", source, TOP_FIELDS)
    name = top.text("name", "lora-vs-full")
    if not NAME_PATTERN.match(name):
        top.fail(
            "name", f"'{name}' is not usable on the command line: use at most 80 lower-case letters, digits and '-'"
        )
    pillar = top.text("pillar", "effort")
    if pillar not in PILLARS:
        top.fail("pillar", f"'{pillar}' is not a pillar: write one of {', '.join(PILLARS)}")
    explain = raw.get("explain", [])
    if not isinstance(explain, list) or not all(isinstance(e, str) and e.strip() for e in explain):
        top.fail("explain", 'must be a list of texts: write explain = ["Why is ...?", "What if ...?"]')

    raw_runs = raw.get("runs")
    if not isinstance(raw_runs, list) or not raw_runs or not all(isinstance(r, dict) for r in raw_runs):
        top.fail("runs", "are missing: add at least one [[runs]] table with id, label, args and seeds")
    runs: list[LessonRun] = []
    for i, item in enumerate(raw_runs):
        fields = _Fields(item, f"runs[{i}].", source, RUN_FIELDS)
        run_id = fields.text("id", "adapter")
        if not ID_PATTERN.match(run_id):
            fields.fail("id", f"'{run_id}' must be lower-case letters, digits, '_' or '-'")
        if run_id in {r.id for r in runs}:
            fields.fail("id", f"'{run_id}' is used twice: give each run its own id")
        args = fields.text("args", "--model minilm --dataset nusax-senti/javanese --epochs 3")
        seeds = item.get("seeds")
        if (
            not isinstance(seeds, list)
            or not seeds
            or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in seeds)
        ):
            fields.fail("seeds", "must be a list of whole numbers: write seeds = [42, 43]")
        if len(set(seeds)) != len(seeds):
            fields.fail("seeds", f"{seeds} repeats a seed: each seed once")
        if any(word.split("=")[0] == "--seed" for word in args.split()):
            fields.fail("args", "sets --seed: put the seeds in seeds = [42, 43] instead")
        try:
            config = validate_techniques_of(config_from_flags(args).validate())
            if not looks_like_file(config.data.dataset):
                resolve(config.data.dataset)  # an unknown dataset is refused here, not when the lesson runs
        except EfficiencyError as exc:
            fields.fail("args", f"cannot be used: {exc}")
        runs.append(LessonRun(run_id, fields.text("label", run_id), args, tuple(seeds)))

    raw_checks = raw.get("checks")
    if not isinstance(raw_checks, list) or not raw_checks or not all(isinstance(c, dict) for c in raw_checks):
        top.fail("checks", "are missing: add at least one [[checks]] table with says, metric, compare and expect")
    ids = [r.id for r in runs]
    checks = [_check(item, f"checks[{i}].", source, ids) for i, item in enumerate(raw_checks)]
    return Lesson(
        name=name,
        title=top.text("title", "LoRA against full fine-tuning"),
        pillar=pillar,
        question=top.text("question", "Does training 0.3% of the weights cost accuracy?"),
        claim=top.text("claim", "LoRA matches full fine-tuning while training a tiny share of the weights."),
        citation=top.text("citation", "Hu et al. (2021). LoRA: Low-Rank Adaptation of Large Language Models."),
        runs=tuple(runs),
        checks=tuple(checks),
        watch=top.text("watch", "Watch the trainable parameters.", required=False),
        note=top.text("note", "MiniLM cannot read this script.", required=False),
        explain=tuple(e.strip() for e in explain),
        tokenizer_lens=top.text("tokenizer_lens", "minilm", required=False),
        source=source,
    )


def _check(item: dict[str, Any], where: str, source: str, run_ids: list[str]) -> Check:
    fields = _Fields(item, where, source, CHECK_FIELDS)
    says = fields.text("says", "LoRA trains under 1% of the weights")
    metric = fields.text("metric", "accuracy")
    if metric not in BY_KEY:
        fields.fail("metric", f"'{metric}' is not a stored figure: write one of {', '.join(BY_KEY)}")
    compare = item.get("compare")
    if not isinstance(compare, list) or len(compare) != 2 or not all(isinstance(c, str) for c in compare):
        fields.fail("compare", f'must name two runs, left then right: write compare = ["{run_ids[0]}", "..."]')
    for side in compare:
        if side not in run_ids:
            fields.fail("compare", f"names '{side}', which is no run of this lesson: use one of {', '.join(run_ids)}")
    if compare[0] == compare[1]:
        fields.fail("compare", "names the same run twice: compare two different runs")
    expect = fields.text("expect", "lower")
    if expect not in EXPECTS:
        fields.fail("expect", f"'{expect}' is not known: write one of {', '.join(EXPECTS)}")
    value = item.get("value")
    if expect in NEEDS_VALUE:
        if not isinstance(value, int | float) or isinstance(value, bool):
            fields.fail("value", f'is needed by expect = "{expect}": write a number, e.g. value = 0.01')
        if expect != "within" and value <= 0:
            fields.fail("value", f"is {value}: a ratio threshold must be positive")
        if expect == "within" and value < 0:
            fields.fail("value", f"is {value}: the band of 'within' is plus or minus a positive number")
    elif value is not None:
        fields.fail("value", f'is not used by expect = "{expect}": remove it (or use ratio_below, ratio_above, within)')
    return Check(says, metric, compare[0], compare[1], expect, None if value is None else float(value))


def validate_techniques_of(config: RunConfig) -> RunConfig:
    """The config, once its techniques are known and combine (efficiency.techniques' own check)."""
    from efficiency.techniques import validate_techniques

    validate_techniques(config)
    return config
