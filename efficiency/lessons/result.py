"""A lesson's result from its runs' stored figures: each check's verdict, the lesson's, and every figure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from efficiency.figures import FIGURES
from efficiency.lessons.plan import Plan, plan_lesson
from efficiency.lessons.schema import Lesson
from efficiency.lessons.verdict import CheckVerdict, Stats, judge, lesson_verdict, stats
from efficiency.store import RunStore


@dataclass
class LessonResult:
    lesson: Lesson
    verdict: str
    checks: list[CheckVerdict]
    runs: dict[str, list[int]]  # lesson run id -> stored run ids
    figures: dict[str, dict[str, Stats]]  # lesson run id -> figure -> mean, sd, n over its finished seeds
    pending: list[int] = field(default_factory=list)  # stored runs still queued or running
    failed: dict[int, str] = field(default_factory=dict)  # stored run id -> why it did not finish

    def to_json(self) -> dict[str, Any]:
        """The CLI's `lesson run --json` object."""
        return {
            "lesson": self.lesson.name,
            "title": self.lesson.title,
            "verdict": self.verdict,
            "checks": [check.to_dict() for check in self.checks],
            "runs": self.runs,
            "figures": {
                run: {key: value.to_dict() for key, value in figures.items()} for run, figures in self.figures.items()
            },
            "pending": self.pending,
            "failed": {str(run_id): why for run_id, why in self.failed.items()},
        }

    def text(self) -> str:
        """The verdict as the CLI prints it: the lesson's, then each check's with its words."""
        lines = [f"{self.lesson.title}: {self.verdict}", f"  claim: {self.lesson.claim}", f"  ({self.lesson.citation})"]
        for check in self.checks:
            lines.append(f"- {check.says}: {check.verdict}")
            lines.append(f"    {check.words}")
        runs = ", ".join(f"{run} {ids}" for run, ids in self.runs.items())
        lines.append(f"runs: {runs}")
        if self.pending:
            lines.append(f"still queued or running: {self.pending}")
        for run_id, why in self.failed.items():
            lines.append(f"run {run_id} did not finish: {why}")
        return "\n".join(lines)


def evaluate(
    lesson: Lesson,
    metrics: Mapping[str, Sequence[Mapping[str, Any]]],
    runs: Mapping[str, list[int]] | None = None,
    pending: Sequence[int] = (),
) -> LessonResult:
    """The result from each lesson run's finished metrics (one mapping per seed): pure, for tests and pages."""
    labels = {run.id: run.label for run in lesson.runs}
    checks = [
        judge(
            check,
            [m.get(check.metric) for m in metrics.get(check.left, [])],
            [m.get(check.metric) for m in metrics.get(check.right, [])],
            labels[check.left],
            labels[check.right],
        )
        for check in lesson.checks
    ]
    figures: dict[str, dict[str, Stats]] = {}
    for run in lesson.runs:
        seeds = metrics.get(run.id, [])
        figures[run.id] = {f.key: s for f in FIGURES if (s := stats([m.get(f.key) for m in seeds], f.key)) is not None}
    return LessonResult(
        lesson=lesson,
        verdict=lesson_verdict([c.verdict for c in checks]),
        checks=checks,
        runs=dict(runs or {run.id: [] for run in lesson.runs}),
        figures=figures,
        pending=list(pending),
    )


def lesson_result(lesson: Lesson, store: RunStore, plan: Plan | None = None) -> LessonResult:
    """The result from the store as it stands: finished runs count, runs under way are listed as pending."""
    plan = plan_lesson(lesson, store) if plan is None else plan
    metrics: dict[str, list[dict[str, Any]]] = {run.id: [] for run in lesson.runs}
    pending, failed = [], {}
    for item in plan.items:
        record = store.get(item.record_id) if item.record_id is not None else None
        if record is None:
            continue
        if record.status == "finished":
            metrics[item.run].append(record.metrics or {})
        elif record.status in ("queued", "running"):
            pending.append(record.id)
        else:
            failed[record.id] = f"{record.status}: {record.error or 'no message'}"
    result = evaluate(lesson, metrics, plan.record_ids(), pending)
    result.failed = failed
    return result
