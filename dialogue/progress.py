"""Time to repair over weeks: ruptures logged, repairs made, days from rupture to repair."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import chain
from typing import Any

WEEKS = 8
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
    return Progress([w.date().isoformat() for w in weeks], ruptures, repairs, means,
                    _reading(ruptures, days))  # fmt: skip


def _reading(ruptures: list[int], days: list[list[float]]) -> str:
    if not any(ruptures):
        return "none"
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
