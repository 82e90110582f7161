"""Point labels: one per point or per pile of points, never two on top of each other, at any wider plot."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from efficiency.label_placement import box_of, place_labels

FONT_PX, MARKER_PX = 18, 25
NAMES = ["Full fine-tuning", "LoRA r=8", "int8 after training", "Half the layers removed", "Random half of the data",
         "bf16 mixed precision", "Linear probe", "BitFit", "Top 2 layers trained", "Distilled, half the layers"]  # fmt: skip


def boxes(labels, points, width_px, height_px):
    out = []
    for label in labels:
        fx, fy = points[label.members[0]]
        out.append(box_of(label, fx * width_px, (1 - fy) * height_px, FONT_PX))
    return out


def test_points_on_top_of_each_other_share_one_label_that_names_both():
    points = [(0.5, 0.5), (0.502, 0.501), (0.1, 0.1)]
    labels = place_labels(points, ["Full fine-tuning", "int8 after training", "LoRA r=8"], 600, 300, FONT_PX, MARKER_PX)
    assert [label.members for label in labels] == [(0, 1), (2,)]
    assert labels[0].lines == ("Full fine-tuning", "int8 after training")


def test_a_label_stays_beside_its_point_when_there_is_room():
    (label,) = place_labels([(0.3, 0.5)], ["LoRA r=8"], 600, 300, FONT_PX, MARKER_PX)
    assert not label.leader and label.number is None
    assert abs(label.dx_px) < MARKER_PX and abs(label.dy_px) < MARKER_PX  # its near edge touches the marker


def test_a_crowd_too_dense_for_words_gets_numbers_the_legend_explains():
    points = [(0.5 + 0.02 * (i % 4), 0.5 + 0.06 * (i // 4)) for i in range(12)]
    labels = place_labels(points, [f"{n} with a long tail of words" for n in NAMES + NAMES][:12], 300, 120, FONT_PX, 10)
    numbered = [label for label in labels if label.number is not None]
    assert numbered, "a 300x120 plot cannot hold twelve long names"
    assert sorted(label.number for label in numbered) == list(range(1, len(numbered) + 1))


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.tuples(st.floats(0, 1), st.floats(0, 1)), min_size=1, max_size=10),
    st.sampled_from([1.0, 1.3, 2.0]),
)
def test_no_two_labels_overlap_nor_leave_the_plot_at_the_placed_width_or_wider(points, wider):
    width_px, height_px = 560, 300
    labels = place_labels(points, NAMES[: len(points)], width_px, height_px, FONT_PX, MARKER_PX)
    named = set().union(*(label.members for label in labels))
    assert named == set(range(len(points))), "every point is named"
    placed = [label for label in labels if not label.last_resort]
    drawn = boxes(placed, points, width_px * wider, height_px)
    for box in drawn:
        assert box.left >= -0.01 and box.right <= width_px * wider + 0.01 and box.top >= -0.01
        assert box.bottom <= height_px + 0.01
    for a, b in itertools.combinations(drawn, 2):
        assert not (a.left < b.right and b.left < a.right and a.top < b.bottom and b.top < a.bottom), (a, b)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=2, max_size=6), st.sampled_from([1.3, 2.0, 4.0]))
def test_on_one_level_labels_keep_their_points_order_at_any_wider_width(xs, wider):
    points = [(x, 0.5) for x in xs]  # a strip one label high: labels can only sit side by side
    labels = [lb for lb in place_labels(points, NAMES[: len(xs)], 560, 40, FONT_PX, MARKER_PX) if not lb.last_resort]
    for a, b in itertools.combinations(boxes(labels, points, 560 * wider, 40), 2):
        assert a.right <= b.left or b.right <= a.left or a.bottom <= b.top or b.bottom <= a.top
