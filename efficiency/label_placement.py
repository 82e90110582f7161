"""Where a chart's point labels go so that no two overlap: a greedy search in the plot's pixels.

Points come as fractions of the plot area (0 to 1 on each axis, y upwards); a label is a box of
estimated size placed beside its point, or further away with a leader line. Points that sit on top of
each other share one label that names them all. A label that finds no free place gets a number, and
the chart's legend says what the number means.

The placement holds at any plot width of at least `width_px`: two labels side by side keep the order of
their points, so a wider plot only moves them apart (the height is fixed by the figure).
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

CHAR_WIDTH_EM = 0.52  # measured 0.43 in Chromium for Plotly's sans-serif: estimates err large
LINE_HEIGHT_EM = 1.3
PAD_PX = 3.0  # free space kept around every label
FAR_RINGS = 8  # how many label heights away a label may go, with a leader line
SHUFFLED_TRIES = 8  # orders tried beyond the four natural ones, on charts of up to 16 labels


@dataclass(frozen=True)
class Box:
    """A rectangle in pixels, y downwards."""

    left: float
    top: float
    right: float
    bottom: float

    def overlaps(self, other: Box) -> bool:
        return not (
            self.right + PAD_PX <= other.left
            or other.right + PAD_PX <= self.left
            or self.bottom + PAD_PX <= other.top
            or other.bottom + PAD_PX <= self.top
        )

    def level_with(self, other: Box) -> bool:
        """The two share a horizontal band: only their left-to-right order keeps them apart."""
        return self.top < other.bottom + PAD_PX and other.top < self.bottom + PAD_PX


@dataclass(frozen=True)
class Label:
    """One label: the points it names, its lines, and where it sits from its point (pixels, y down).

    (dx_px, dy_px) is the box's edge or centre nearest the point, as `x_side` and `y_side` say: text is
    narrower than its estimated box, so it hugs its point from the near side rather than floating.
    """

    members: tuple[int, ...]
    lines: tuple[str, ...]
    dx_px: float
    dy_px: float
    leader: bool  # far from its point: a thin line joins them
    x_side: str = "center"  # left | center | right: which edge of the text sits at dx_px
    y_side: str = "middle"  # top | middle | bottom: which edge sits at dy_px
    number: int | None = None  # no free place for the words: the legend says what this number names
    last_resort: bool = False  # not even a number found room: drawn above its point, perhaps over another


@dataclass(frozen=True)
class _Placed:
    box: Box
    anchor_x: float  # the pixel x of the point the box belongs to
    leader: tuple[tuple[float, float], tuple[float, float]] | None = None  # from its point to its centre


def place_labels(
    points: Sequence[tuple[float, float]],
    texts: Sequence[str],
    width_px: float,
    height_px: float,
    font_px: float,
    marker_px: float,
) -> list[Label]:
    """A label for every point (shared where points coincide), placed so that no two overlap.

    Greedy placement depends on which label chooses first, so a few orders are tried and the one that
    numbers the fewest labels, then draws the fewest and shortest leader lines, is kept.
    """
    pixels = [(fx * width_px, (1 - fy) * height_px) for fx, fy in points]
    groups = _coinciding(pixels, marker_px)
    orders = [
        _crowded_first(groups, pixels),
        sorted(groups, key=lambda g: pixels[g[0]][0]),  # left to right
        sorted(groups, key=lambda g: -pixels[g[0]][0]),  # right to left
        sorted(groups, key=lambda g: pixels[g[0]][1]),  # top to bottom
        sorted(groups, key=lambda g: -sum(len(texts[i]) for i in g)),  # the longest names first
    ]
    shuffler = random.Random(0)  # seeded: the same runs get the same picture
    for _ in range(SHUFFLED_TRIES if len(groups) <= 16 else 0):
        orders.append(shuffler.sample(groups, len(groups)))
    tries = [_place_in_order(order, pixels, texts, (width_px, height_px, marker_px), font_px) for order in orders]
    return min(tries, key=_untidiness)


def _untidiness(labels: list[Label]) -> tuple[int, int, int, float]:
    return (
        sum(label.last_resort for label in labels),
        sum(label.number is not None for label in labels),
        sum(label.leader for label in labels),
        sum(math.hypot(label.dx_px, label.dy_px) for label in labels),
    )


def _place_in_order(
    order: list[list[int]],
    pixels: Sequence[tuple[float, float]],
    texts: Sequence[str],
    area: tuple[float, float, float],
    font_px: float,
) -> list[Label]:
    marker_px = area[2]
    markers = [
        _Placed(Box(x - marker_px / 2, y - marker_px / 2, x + marker_px / 2, y + marker_px / 2), x) for x, y in pixels
    ]
    placed: list[_Placed] = []
    labels: list[Label] = []
    numbered = 0
    for members in order:
        x, y = pixels[members[0]]
        lines = tuple(dict.fromkeys(texts[i] for i in members))  # one line per distinct name
        others = [m for i, m in enumerate(markers) if i not in members]  # its own points sit under it anyway
        spot = _free_spot(x, y, _size(lines, font_px), area, placed, others)
        number = None
        if spot is None:  # no room for the words: a number, explained in the legend
            numbered += 1
            number = numbered
            spot = _free_spot(x, y, _size((str(number),), font_px), area, placed, others)
        w, h = _size((str(number),) if number else lines, font_px)
        dx, dy, leader = spot or (0.0, -(marker_px / 2 + PAD_PX + h / 2), False)
        box = Box(x + dx - w / 2, y + dy - h / 2, x + dx + w / 2, y + dy + h / 2)
        placed.append(_Placed(box, x, ((x, y), (x + dx, y + dy)) if leader else None))
        x_side, near_x = (
            ("left", box.left) if box.left > x else ("right", box.right) if box.right < x else ("center", x + dx)
        )
        y_side, near_y = (
            ("top", box.top) if box.top > y else ("bottom", box.bottom) if box.bottom < y else ("middle", y + dy)
        )
        labels.append(
            Label(
                tuple(members),
                lines,
                near_x - x,
                near_y - y,
                leader,
                x_side=x_side,
                y_side=y_side,
                number=number,
                last_resort=spot is None,
            )
        )
    return sorted(labels, key=lambda label: label.members)


def _size(lines: Sequence[str], font_px: float) -> tuple[float, float]:
    width = max(len(line) for line in lines) * font_px * CHAR_WIDTH_EM + 2 * PAD_PX
    return width, len(lines) * font_px * LINE_HEIGHT_EM + 2 * PAD_PX


def _coinciding(pixels: Sequence[tuple[float, float]], marker_px: float) -> list[list[int]]:
    """Points closer than half a marker's width, grouped: they sit on top of each other, and get one label."""
    groups: list[list[int]] = []
    for i, (x, y) in enumerate(pixels):
        for members in groups:
            gx, gy = pixels[members[0]]
            if abs(gx - x) < marker_px / 2 and abs(gy - y) < marker_px / 2:
                members.append(i)
                break
        else:
            groups.append([i])
    return groups


def _crowded_first(groups: list[list[int]], pixels: Sequence[tuple[float, float]]) -> list[list[int]]:
    """Labels of crowded points choose first, while there is still room near them."""

    def neighbours(members: list[int]) -> int:
        x, y = pixels[members[0]]
        return sum(abs(px - x) < 150 and abs(py - y) < 60 for px, py in pixels)

    return sorted(groups, key=lambda members: (-neighbours(members), members[0]))


def _candidates(size: tuple[float, float], marker_px: float) -> list[tuple[float, float, bool]]:
    """Offsets of a label's centre from its point: the eight beside it, then further ones, shortest first."""
    w, h = size
    gap = marker_px / 2 + PAD_PX
    side, up = gap + w / 2, gap + h / 2
    near = [(side, 0.0), (-side, 0.0), (0.0, -up), (0.0, up), (side, -up), (-side, -up), (side, up), (-side, up)]
    far = []
    for ring in range(1, FAR_RINGS + 1):
        step = ring * (h + PAD_PX)
        far += [(dx, sign * (up + step)) for dx in (0.0, side, -side, w / 4, -w / 4) for sign in (-1, 1)]
        far += [(sign * (side + ring * w / 4), dy) for sign in (-1, 1) for dy in (0.0, -step, step)]
    far.sort(key=lambda offset: math.hypot(*offset))
    return [(dx, dy, False) for dx, dy in near] + [(dx, dy, True) for dx, dy in far]


def _free_spot(
    x: float,
    y: float,
    size: tuple[float, float],
    area: tuple[float, float, float],
    placed: Sequence[_Placed],
    markers: Sequence[_Placed],
) -> tuple[float, float, bool] | None:
    """The nearest spot inside the plot that keeps clear of every placed label and every other point."""
    width_px, height_px, marker_px = area
    w, h = size
    for dx, dy, leader in _candidates(size, marker_px):
        box = Box(x + dx - w / 2, y + dy - h / 2, x + dx + w / 2, y + dy + h / 2)
        if box.left < 0 or box.right > width_px or box.top < 0 or box.bottom > height_px:
            continue
        if not all(_apart(box, x, other) for other in (*placed, *markers)):
            continue
        if leader and any(_crosses((x, y), (x + dx, y + dy), other.box) for other in placed):
            continue  # a leader line through another label would read as pointing at it
        if any(other.leader and _crosses(*other.leader, box) for other in placed):
            continue  # nor may a label sit on another's leader line
        return dx, dy, leader
    return None


def _crosses(start: tuple[float, float], end: tuple[float, float], box: Box, samples: int = 24) -> bool:
    """Whether the segment passes through the box (sampled: labels are far larger than the step)."""
    for k in range(samples + 1):
        t = k / samples
        x, y = start[0] + t * (end[0] - start[0]), start[1] + t * (end[1] - start[1])
        if box.left <= x <= box.right and box.top <= y <= box.bottom:
            return True
    return False


def _apart(box: Box, anchor_x: float, other: _Placed) -> bool:
    """No overlap, and side by side only in their points' order (so a wider plot keeps them apart)."""
    if box.overlaps(other.box):
        return False
    if not box.level_with(other.box):
        return True
    if box.left >= other.box.right:
        return anchor_x >= other.anchor_x
    return anchor_x <= other.anchor_x


def box_of(label: Label, x: float, y: float, font_px: float) -> Box:
    """Where a placed label's box lies for its point at pixel (x, y): to check a placement at any width."""
    w, h = _size((str(label.number),) if label.number else label.lines, font_px)
    near_x, near_y = x + label.dx_px, y + label.dy_px
    left = {"left": near_x, "right": near_x - w, "center": near_x - w / 2}[label.x_side]
    top = {"top": near_y, "bottom": near_y - h, "middle": near_y - h / 2}[label.y_side]
    return Box(left, top, left + w, top + h)
