"""Time to repair over weeks, from plans (ruptures) and follow-up outcomes (repairs)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from dialogue.progress import WEEKS, progress, week_labels

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)  # a Friday


def history(*pairs: tuple[int, float | None], outcome: str = "well") -> dict[str, Any]:
    """Plans `weeks_ago` weeks back, each repaired `days` later (None: not repaired)."""
    plans, outcomes = [], []
    for n, (weeks_ago, days) in enumerate(pairs):
        created = NOW - timedelta(weeks=weeks_ago, days=4)  # the Monday of that week
        plans.append({"id": f"p{n}", "created": created.isoformat()})
        if days is not None:
            at = created + timedelta(days=days)
            outcomes.append({"plan_id": f"p{n}", "at": at.isoformat(), "outcome": outcome})
    return {"plans": plans, "outcomes": outcomes}


def test_no_history_reads_none() -> None:
    p = progress({}, NOW)
    assert p.reading == "none" and p.ruptures == [0] * WEEKS and len(p.weeks) == WEEKS
    assert p.weeks[-1] == "2026-11-23"  # this week's Monday, last


def test_weekly_counts_and_days() -> None:
    p = progress(history((0, 1), (0, 3), (2, None), (9, 1)), NOW)  # 9 weeks ago: off the chart
    assert p.ruptures[-1] == 2 and p.ruptures[-3] == 1 and sum(p.ruptures) == 3
    assert p.days_to_repair[-1] == 2.0 and p.days_to_repair[-3] is None
    assert p.repairs[-1] == 2


def test_not_yet_is_no_repair() -> None:
    p = progress(history((1, 2), outcome="not_yet"), NOW)
    assert p.repairs == [0] * WEEKS and p.reading == "first"


def test_readings_follow_the_trend() -> None:
    assert progress(history((6, 4), (5, 4), (1, 1), (0, 1)), NOW).reading == "faster"
    assert progress(history((6, 1), (5, 1), (1, 4), (0, 4)), NOW).reading == "slower"
    assert progress(history((6, 2), (5, 2), (1, 2), (0, 2)), NOW).reading == "steady"
    assert progress(history((1, 2)), NOW).reading == "first"


def test_week_labels_come_from_the_locales_words() -> None:
    words = {"chart.week_date": "{day}. {month}", "month.jan": "Jan.", "month.dec": "Dez."}
    assert week_labels(["2026-12-28", "2027-01-04"], words.__getitem__) == ["28. Dez.", "4. Jan."]


def test_repairs_alone_are_something_to_chart() -> None:
    old = (NOW - timedelta(weeks=12)).isoformat()
    repaired = {"plan_id": "p", "at": NOW.isoformat(), "outcome": "well"}
    p = progress({"plans": [{"id": "p", "created": old}], "outcomes": [repaired]}, NOW)
    assert p.reading == "first" and p.repairs[-1] == 1 and not any(p.ruptures)
