"""Self-refreshing panels slow down as browsers fill one server process, and speed up again as they leave."""

from __future__ import annotations

import pytest

from efficiency.ui import pacing


@pytest.fixture(autouse=True)
def no_viewers(monkeypatch):
    monkeypatch.setattr(pacing, "_last_seen", {})


def test_a_panel_keeps_its_period_for_a_few_browsers_and_slows_with_more_up_to_its_ceiling():
    assert pacing.paced_s(1.0, viewers=0, most_s=5.0) == 1.0
    assert pacing.paced_s(1.0, viewers=pacing.FULL_PACE_VIEWERS, most_s=5.0) == 1.0
    assert pacing.paced_s(1.0, viewers=10, most_s=5.0) == pytest.approx(2.5)
    assert pacing.paced_s(1.0, viewers=30, most_s=5.0) == 5.0
    assert pacing.paced_s(5.0, viewers=30, most_s=2.0) == 5.0  # a ceiling under the period never speeds it up


def test_browsers_count_once_each_and_drop_out_a_minute_after_their_last_rerun():
    assert pacing._note("ani", now=0.0) == 1
    assert pacing._note("ani", now=10.0) == 1  # the same browser again
    assert pacing._note("budi", now=20.0) == 2
    assert pacing.viewers(now=75.0) == 1  # ani last seen at 10 s, budi at 20 s
    assert pacing._note("citra", now=90.0) == 1  # ani and budi both gone, and forgotten
    assert set(pacing._last_seen) == {"citra"}


def test_a_full_class_slows_the_live_view_and_an_empty_server_restores_it():
    for i in range(12):
        pacing._note(f"student-{i}", now=pacing.time.monotonic())
    assert pacing.refresh_s(1.0, most_s=5.0) == pytest.approx(3.0)
    pacing._last_seen.clear()
    assert pacing.refresh_s(1.0, most_s=5.0) == 1.0
