"""When the coach reaches out: the next reflection in the user's own zone, and which prompt.

Pure: no clock of its own. Times are stored in UTC as "YYYY-MM-DDTHH:MM:SS+00:00" (`stamp`),
so the store compares them as text. A reminder time is a local wall-clock time: on the day a
zone springs forward, a time in the gap is taken as the same moment shifted by the gap (02:30
in New York on that day is 03:30); on the day it falls back, a time that happens twice is
taken the first time. A reflection is never sent twice on one local day (`last_day`).
"""

from __future__ import annotations

import zlib
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

from dialogue.places import zone
from dialogue.replies import Effect
from dialogue.session import Profile, Session

REFLECTION, FOLLOW_UP = "reflection", "follow_up"
DAILY_REF = "daily"  # the `ref` of the one reflection row of a user
QUIET = timedelta(minutes=20)  # someone who wrote this recently is not interrupted
PROMPTS_KEPT = 400  # prompt keys remembered as used, at most
RELS = ("baby", "toddler", "child", "teen", "partner")  # prompt tags besides "anyone"
FOLLOW_UP_FRESH = timedelta(hours=12)  # a follow-up not sent by then is dropped, not sent late


@lru_cache(maxsize=64)  # every turn stamps its `now`: a server sees few distinct seconds
def stamp(moment: datetime) -> str:
    """A moment as stored: UTC, to the second, comparable as text."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def parse_stamp(text: str) -> datetime:
    """A stored moment back (naive ones are taken as UTC)."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def local_day(tz: str, moment: datetime) -> date:
    """The user's calendar day at a moment."""
    return moment.astimezone(zone(tz or "UTC")).date()


def at_local(day: date, clock: str, tz: str) -> datetime:
    """The moment a wall-clock time happens on a local day (gap: shifted; twice: the first)."""
    hour, minute = (int(x) for x in clock.split(":"))
    local = datetime.combine(day, time(hour, minute), tzinfo=zone(tz or "UTC"))
    # fold=0 reads a time in a spring gap with the offset from before the change, which is
    # the wall-clock time shifted forward by the gap; a repeated time, its first occurrence.
    return local.astimezone(UTC)


def expiry(kind: str, tz: str, written: datetime) -> datetime:
    """When a reminder's message, put in the outbox at `written`, is too late to send: a
    reflection belongs to that local day (the next day's comes on its own), a follow-up asked
    FOLLOW_UP_FRESH late would be about another evening."""
    if kind != REFLECTION:
        return written + FOLLOW_UP_FRESH
    tomorrow = local_day(tz, written) + timedelta(days=1)
    # Local midnight (fold=0: in a zone that springs forward at midnight, the day's first
    # moment; one that falls back at midnight, its first midnight).
    return datetime.combine(tomorrow, time(0, 0), tzinfo=zone(tz or "UTC")).astimezone(UTC)


def enabled(profile: Profile) -> bool:
    """Whether the user wants reflections and has said when."""
    return profile.reflections and not profile.daily_paused and bool(profile.reflect_time)


def next_reflection(profile: Profile, after: datetime, last_day: str = "") -> datetime | None:
    """The first reminder moment after `after` on a local day later than `last_day`."""
    if not enabled(profile):
        return None
    today = local_day(profile.tz, after)
    done = date.fromisoformat(last_day) if last_day else None
    for offset in range(3):
        day = today + timedelta(days=offset)
        if done is not None and day <= done:
            continue
        moment = at_local(day, profile.reflect_time, profile.tz)
        if moment > after:
            return moment
    return at_local(today + timedelta(days=3), profile.reflect_time, profile.tz)


def move_reflection(at: datetime | None) -> Effect:
    """The effect that sets the user's reflection row to `at` (None: deletes it)."""
    return Effect("schedule", {"kind": REFLECTION, "ref": DAILY_REF,
                               "at": stamp(at) if at else None})  # fmt: skip


def schedule_of(profile: Profile) -> tuple[Any, ...]:
    """What the reflection row depends on: a change means it is computed again."""
    return (profile.reflections, profile.reflect_time, profile.tz, profile.daily_paused)


def quiet(session: Session, now: datetime) -> bool:
    """Whether the user has been quiet long enough to be written to first."""
    return not session.last_at or now - parse_stamp(session.last_at) >= QUIET


def matching(tags: dict[str, dict[str, Any]], rel: str) -> list[str]:
    """Prompt keys for a relationship: its own and those for anyone, in file order."""
    return [k for k, t in tags.items() if rel in t.get("for", ()) or "anyone" in t.get("for", ())]


def pick_prompt(
    tags: dict[str, dict[str, Any]], rel: str, used: list[str], seed: int, skip: str = ""
) -> tuple[str, list[str]]:
    """A prompt not used yet (all used: start again, never the one just shown) and the new
    used list. Deterministic from the seed and how many were used."""
    keys = matching(tags, rel if rel in RELS else "anyone") or list(tags)
    fresh = [k for k in keys if k not in used and k != skip]
    if not fresh:  # every one used: a new round, without the latest
        used = [k for k in used if k not in keys]
        fresh = [k for k in keys if k != skip] or keys
    # Themes take turns: the least shown theme first, then a seeded choice within it.
    shown = [tags.get(k, {}).get("theme", "") for k in used]
    themes = sorted(
        {tags.get(k, {}).get("theme", "") for k in fresh}, key=lambda t: (shown.count(t), t)
    )
    first = [k for k in fresh if tags.get(k, {}).get("theme", "") == themes[0]]
    key = first[zlib.crc32(f"{seed}:{len(used)}".encode()) % len(first)]
    return key, [*used, key][-PROMPTS_KEPT:]
