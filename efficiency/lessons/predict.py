"""The predict step: the guesses a student can make for a check, and which one the measurement supports."""

from __future__ import annotations

from efficiency.figures import BY_KEY
from efficiency.lessons.schema import Check, Lesson
from efficiency.lessons.verdict import (
    INCONCLUSIVE,
    NOT_REPRODUCED,
    REPRODUCED,
    CheckVerdict,
    difference_text,
    share_text,
)

SAME = "about the same"


def _name(metric: str) -> str:
    return BY_KEY[metric].label.lower() if metric in BY_KEY else metric


def choices(check: Check, lesson: Lesson) -> tuple[str, ...]:
    """The guesses offered for a check, in words ('LoRA r=8: lower training time than Full fine-tuning', ...)."""
    left, right, what = lesson.run(check.left).label, lesson.run(check.right).label, _name(check.metric)
    if check.expect in ("lower", "higher"):
        return (f"{left}: lower {what} than {right}", SAME, f"{left}: higher {what} than {right}")
    if check.expect in ("ratio_below", "ratio_above"):
        share = share_text(check.value)
        return (f"{left}: {what} under {share} of {right}'s", f"{left}: {what} over {share} of {right}'s")
    band = f"±{difference_text(check.metric, check.value or 0.0)}"
    return (f"{left} and {right}: {what} within {band}", f"{left} and {right}: {what} further apart than {band}")


def supported(check: CheckVerdict, claim: Check, lesson: Lesson) -> str | None:
    """The guess the measurement supports; None when it cannot say (a missing figure, one seed of a varying one)."""
    options = choices(claim, lesson)
    decided = "comparison" in check.figures  # judged on both sides' spread, not stopped short
    if claim.expect in ("lower", "higher"):
        toward, away = (options[0], options[2]) if claim.expect == "lower" else (options[2], options[0])
        if check.verdict == REPRODUCED:
            return toward
        if check.verdict == NOT_REPRODUCED:
            return SAME if check.figures["comparison"]["difference"] == 0 else away
        return SAME if decided else None
    if check.verdict == INCONCLUSIVE:
        return None
    first, second = options
    claimed = first if claim.expect in ("ratio_below", "within") else second
    other = second if claimed == first else first
    return claimed if check.verdict == REPRODUCED else other
