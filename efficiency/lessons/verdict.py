"""Verdicts from measured runs: reproduced, not reproduced or inconclusive, with the figures and the words.

Each side of a check is its figure's mean and standard deviation over the side's seeds. A check
holds beyond noise when it holds for every pair of values within one standard deviation of each
side's mean, and fails beyond noise when its opposite holds in the same sense; otherwise the
difference is inside run-to-run noise. A figure that does not vary by seed (the figure catalogue
says which) needs one seed; one that varies, measured on a single seed on either side, is
inconclusive: one seed tells nothing of the noise. Pure functions on numbers: tested on synthetic records.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from efficiency.figures import BY_KEY, text
from efficiency.lessons.schema import Check

REPRODUCED = "reproduced"
NOT_REPRODUCED = "not reproduced"
INCONCLUSIVE = "inconclusive"


@dataclass(frozen=True)
class Stats:
    """A figure over one side's seeds; sd is None where it is unknown (one seed of a varying figure)."""

    mean: float
    sd: float | None
    n: int

    @property
    def low(self) -> float:
        return self.mean - (self.sd or 0.0)

    @property
    def high(self) -> float:
        return self.mean + (self.sd or 0.0)

    def to_dict(self) -> dict[str, Any]:
        return {"mean": self.mean, "sd": self.sd, "n": self.n}


def varies_by_seed(metric: str) -> bool:
    """The catalogue's word; a figure it does not describe is taken to vary."""
    return BY_KEY[metric].varies_by_seed if metric in BY_KEY else True


def stats(values: Sequence[float | None], metric: str) -> Stats | None:
    """Mean and sample standard deviation of the seeds that have the figure (None: no seed has it)."""
    present = [float(v) for v in values if v is not None]
    if not present:
        return None
    if len(present) >= 2:
        sd: float | None = statistics.stdev(present)
    else:
        sd = None if varies_by_seed(metric) else 0.0
    return Stats(statistics.fmean(present), sd, len(present))


@dataclass(frozen=True)
class CheckVerdict:
    """One check judged: the verdict, the numbers that decided it and a sentence in words."""

    says: str
    verdict: str
    figures: dict[str, Any]
    words: str

    def to_dict(self) -> dict[str, Any]:
        return {"says": self.says, "verdict": self.verdict, "figures": {**self.figures, "words": self.words}}


def decide(expect: str, left: Stats, right: Stats, value: float | None) -> str | None:
    """REPRODUCED when the claim holds beyond noise, NOT_REPRODUCED when its opposite does, else None."""
    if expect == "lower":
        holds, fails = left.high < right.low, left.low >= right.high
    elif expect == "higher":
        holds, fails = left.low > right.high, left.high <= right.low
    elif expect in ("ratio_below", "ratio_above"):
        assert value is not None
        if right.low <= 0 or left.low < 0:
            return None  # the right side may reach zero: the ratio has no bound
        smallest, largest = left.low / right.high, left.high / right.low
        if expect == "ratio_below":
            holds, fails = largest < value, smallest >= value
        else:
            holds, fails = smallest > value, largest <= value
    elif expect == "within":
        assert value is not None
        lowest, highest = left.low - right.high, left.high - right.low
        holds, fails = -value <= lowest and highest <= value, lowest > value or highest < -value
    else:
        raise ValueError(f"unknown expectation {expect!r}")
    return REPRODUCED if holds else NOT_REPRODUCED if fails else None


def judge(
    check: Check,
    left_values: Sequence[float | None],
    right_values: Sequence[float | None],
    left_label: str = "",
    right_label: str = "",
) -> CheckVerdict:
    """The verdict of one check on the figures of its two sides (one value per seed that has finished)."""
    left_label, right_label = left_label or check.left, right_label or check.right
    left, right = stats(left_values, check.metric), stats(right_values, check.metric)
    figures: dict[str, Any] = {
        "metric": check.metric,
        "expect": check.expect,
        "value": check.value,
        "left": {"run": check.left, **(left.to_dict() if left else {"mean": None, "sd": None, "n": 0})},
        "right": {"run": check.right, **(right.to_dict() if right else {"mean": None, "sd": None, "n": 0})},
    }
    if left is None or right is None:
        missing = left_label if left is None else right_label
        words = f"{missing} has no {check.metric} yet: run the lesson to measure it."
        return CheckVerdict(check.says, INCONCLUSIVE, figures, words)
    sides = f"{left_label}: {_shown(check.metric, left)} against {right_label}: {_shown(check.metric, right)}"
    if left.sd is None or right.sd is None:
        one = left_label if left.sd is None else right_label
        words = f"{sides}; {one} has one seed, which tells nothing of the noise: add a seed to decide."
        return CheckVerdict(check.says, INCONCLUSIVE, figures, words)
    decided = decide(check.expect, left, right, check.value)
    verdict = decided or INCONCLUSIVE
    comparison = _comparison(check, left, right)
    figures["comparison"] = comparison["numbers"]
    noise = {REPRODUCED: "beyond noise", NOT_REPRODUCED: "the opposite, beyond noise", INCONCLUSIVE: "within noise"}
    words = f"{sides}: {comparison['words']}, {noise[verdict]}."
    return CheckVerdict(check.says, verdict, figures, words)


def _shown(metric: str, side: Stats) -> str:
    """'0.66 ± 0.01' as the result card writes the figure; no ± where the figure does not vary."""
    if metric not in BY_KEY:
        mean = f"{side.mean:.3g}"
        return mean if not side.sd else f"{mean} ± {side.sd:.2g}"
    mean = text(metric, _whole(side.mean))
    if not side.sd:
        return mean
    return f"{mean} ± {text(metric, side.sd)}"


def _whole(value: float) -> float | int:
    """A count averaged over seeds stays a count: 74,883, not 74,883.0."""
    return int(value) if float(value).is_integer() else value


def _comparison(check: Check, left: Stats, right: Stats) -> dict[str, Any]:
    """The difference or ratio the check is about, in numbers and in words."""
    difference = left.mean - right.mean
    ratio = left.mean / right.mean if right.mean else None
    numbers: dict[str, Any] = {"difference": difference, "ratio": ratio}
    if check.expect in ("ratio_below", "ratio_above"):
        if ratio is None:
            return {"numbers": numbers, "words": f"no ratio: {check.right} is zero"}
        relation = "below" if check.expect == "ratio_below" else "above"
        return {
            "numbers": numbers,
            "words": f"a ratio of {share_text(ratio)} (the claim: {relation} {share_text(check.value)})",
        }
    size = difference_text(check.metric, abs(difference))
    direction = "lower" if difference < 0 else "higher" if difference > 0 else "no different"
    if check.expect == "within":
        band = difference_text(check.metric, check.value or 0.0)
        return {"numbers": numbers, "words": f"{size} {direction} (the claim: within {band})"}
    return {"numbers": numbers, "words": f"{size} {direction}" if difference else "equal"}


def difference_text(metric: str, amount: float) -> str:
    """A difference in the figure's own terms: points for a share such as accuracy, the unit otherwise."""
    row = BY_KEY.get(metric)
    if row is not None and row.axis_range == (0.0, 1.0):
        return f"{amount * 100:.1f} points"
    return text(metric, _whole(amount)) if row is not None else f"{amount:.3g}"


def share_text(share: float | None) -> str:
    if share is None:
        return "–"
    return f"{share:.2%}" if share < 0.1 else f"{share:.0%}" if share < 10 else f"{share:.1f}×"


def lesson_verdict(verdicts: Sequence[str]) -> str:
    """Reproduced when every check is, not reproduced when any check is not, inconclusive otherwise."""
    if verdicts and all(v == REPRODUCED for v in verdicts):
        return REPRODUCED
    if any(v == NOT_REPRODUCED for v in verdicts):
        return NOT_REPRODUCED
    return INCONCLUSIVE
