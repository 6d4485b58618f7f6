"""Time to repair over weeks: ruptures logged, repairs made, days from rupture to repair."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import chain
from typing import Any

WEEKS = 8
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
REPAIRED = frozenset({"well", "partly"})  # follow-up outcomes that count as a repair


@dataclass(frozen=True)
class Progress:
    """Per-week figures, oldest week first, and a one-word reading of the trend."""

    weeks: list[str]  # ISO dates of each week's Monday
    ruptures: list[int]
    repairs: list[int]
    days_to_repair: list[float | None]  # mean for ruptures logged that week, None: none repaired
    reading: str  # none, first, faster, slower, steady

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready figures (an effect's payload)."""
        return {"weeks": self.weeks, "ruptures": self.ruptures, "repairs": self.repairs,
                "days_to_repair": self.days_to_repair, "reading": self.reading}  # fmt: skip


def week_labels(weeks: list[str], label: Callable[[str], str]) -> list[str]:
    """Each week's Monday as a short date in the locale's words ("Nov 23"): content's labels
    `chart.week_date` (with {month} and {day}) and `month.<jan…dec>`."""
    shape = label("chart.week_date")
    days = [date.fromisoformat(w) for w in weeks]
    return [shape.format(month=label(f"month.{MONTHS[d.month - 1]}"), day=d.day) for d in days]


def _monday(moment: datetime) -> datetime:
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday())


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def progress(history: dict[str, Any], now: datetime) -> Progress:
    """Weekly figures from stored plans (ruptures) and follow-up outcomes (repairs)."""
    start = _monday(now) - timedelta(weeks=WEEKS - 1)
    weeks = [start + timedelta(weeks=i) for i in range(WEEKS)]

    def week_of(stamp: str) -> int | None:
        moment = datetime.fromisoformat(stamp)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=now.tzinfo)
        index = (moment - start).days // 7
        return index if 0 <= index < WEEKS else None

    ruptures, repairs = [0] * WEEKS, [0] * WEEKS
    days: list[list[float]] = [[] for _ in range(WEEKS)]
    created = {p["id"]: p["created"] for p in history.get("plans", [])}
    for stamp in created.values():
        if (w := week_of(stamp)) is not None:
            ruptures[w] += 1
    first_repair: dict[str, str] = {}
    for o in sorted(history.get("outcomes", []), key=lambda o: o["at"]):
        if o["outcome"] in REPAIRED:
            if (w := week_of(o["at"])) is not None:
                repairs[w] += 1
            first_repair.setdefault(o["plan_id"], o["at"])
    for plan_id, at in first_repair.items():
        if plan_id in created and (w := week_of(created[plan_id])) is not None:
            elapsed = datetime.fromisoformat(at) - datetime.fromisoformat(created[plan_id])
            days[w].append(max(0.0, elapsed.total_seconds() / 86_400))
    means = [_mean(d) for d in days]
    reading = _reading(days) if any(ruptures) or any(repairs) else "none"
    return Progress([w.date().isoformat() for w in weeks], ruptures, repairs, means, reading)


def _reading(days: list[list[float]]) -> str:
    """How the days to repair moved: recent weeks against the weeks before."""
    half = WEEKS // 2
    before = _mean(list(chain.from_iterable(days[:half])))
    recent = _mean(list(chain.from_iterable(days[half:])))
    if before is None or recent is None:
        return "first"
    if recent < before * 0.8:
        return "faster"
    if recent > before * 1.25:
        return "slower"
    return "steady"
