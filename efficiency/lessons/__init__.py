"""Lessons: a paper's finding reproduced on this machine, with a verdict computed from the runs it measured.

schema (what a lesson file holds, checked on load), catalog (the shipped files and a teacher's own),
plan (each run matched to the store: reused, joined or queued), verdict (the rules, on numbers),
result (a lesson's verdict from the store), execute (the CLI trains what is missing), minutes (the estimate),
scale (a run's cost at a larger model or dataset, by the 6·N·D rule: an estimate), cost (a lesson's energy and
CO2 beside everyday things, and its costliest run at scale), predict (the guesses
a student can make for a check, and the one the measurement supports).
"""

from efficiency.lessons.catalog import LESSONS_DIR, find_lesson, load_lesson, parse_text, shipped_lessons
from efficiency.lessons.plan import Plan, PlannedRun, plan_lesson, queue_missing
from efficiency.lessons.result import LessonResult, evaluate, lesson_result
from efficiency.lessons.schema import Check, Lesson, LessonError, LessonRun
from efficiency.lessons.verdict import INCONCLUSIVE, NOT_REPRODUCED, REPRODUCED, CheckVerdict, Stats

__all__ = [
    "INCONCLUSIVE",
    "LESSONS_DIR",
    "NOT_REPRODUCED",
    "REPRODUCED",
    "Check",
    "CheckVerdict",
    "Lesson",
    "LessonError",
    "LessonResult",
    "LessonRun",
    "Plan",
    "PlannedRun",
    "Stats",
    "evaluate",
    "find_lesson",
    "lesson_result",
    "load_lesson",
    "parse_text",
    "plan_lesson",
    "queue_missing",
    "shipped_lessons",
]
