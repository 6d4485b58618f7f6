"""Reminder times in the user's own zone, and the prompt library's rotation."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dialogue.content import Content
from dialogue.daily import at_local, matching, next_reflection, pick_prompt, stamp
from dialogue.flows.daily import follow_up_at, later_at
from dialogue.session import Profile


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


# (zone, reminder time, after (UTC), last day sent (local), the next reminder (UTC))
NEXT = [
    # New York springs forward at 02:00 on 8 March 2026: 02:30 does not exist that day and
    # is taken as 03:30 EDT; the day before and after keep their own offsets.
    ("America/New_York", "02:30", "2026-03-07T12:00:00+00:00", "", "2026-03-08T07:30:00+00:00"),
    ("America/New_York", "02:30", "2026-03-08T08:00:00+00:00", "", "2026-03-09T06:30:00+00:00"),
    ("America/New_York", "20:00", "2026-03-07T02:00:00+00:00", "", "2026-03-08T01:00:00+00:00"),
    (
        "America/New_York",
        "20:00",
        "2026-03-08T01:00:00+00:00",
        "2026-03-07",
        "2026-03-09T00:00:00+00:00",
    ),
    # It falls back at 02:00 on 1 November 2026: 01:30 happens twice; the first one counts,
    # and the second is the same local day, so there is no second reminder.
    ("America/New_York", "01:30", "2026-10-31T12:00:00+00:00", "", "2026-11-01T05:30:00+00:00"),
    (
        "America/New_York",
        "01:30",
        "2026-11-01T05:30:00+00:00",
        "2026-11-01",
        "2026-11-02T06:30:00+00:00",
    ),
    # Berlin: forward on 29 March, back on 25 October 2026.
    ("Europe/Berlin", "02:30", "2026-03-28T12:00:00+00:00", "", "2026-03-29T01:30:00+00:00"),
    (
        "Europe/Berlin",
        "21:00",
        "2026-03-28T21:00:00+00:00",
        "2026-03-28",
        "2026-03-29T19:00:00+00:00",
    ),
    ("Europe/Berlin", "02:30", "2026-10-24T12:00:00+00:00", "", "2026-10-25T00:30:00+00:00"),
    (
        "Europe/Berlin",
        "02:30",
        "2026-10-25T00:30:00+00:00",
        "2026-10-25",
        "2026-10-26T01:30:00+00:00",
    ),
    (
        "Europe/Berlin",
        "08:00",
        "2026-10-24T07:00:00+00:00",
        "2026-10-24",
        "2026-10-25T07:00:00+00:00",
    ),
    # Half- and quarter-hour zones.
    ("Asia/Kolkata", "21:30", "2026-06-01T00:00:00+00:00", "", "2026-06-01T16:00:00+00:00"),
    ("Asia/Kathmandu", "21:30", "2026-06-01T00:00:00+00:00", "", "2026-06-01T15:45:00+00:00"),
    ("Asia/Kathmandu", "06:00", "2026-06-01T00:30:00+00:00", "", "2026-06-02T00:15:00+00:00"),
    # A fixed offset from "it's 14:05 here", and no zone at all (UTC).
    ("UTC-03:30", "20:00", "2026-06-01T00:00:00+00:00", "", "2026-06-01T23:30:00+00:00"),
    ("", "20:00", "2026-06-01T20:00:00+00:00", "", "2026-06-02T20:00:00+00:00"),
]


@pytest.mark.parametrize(("tz", "clock", "after", "last", "want"), NEXT)
def test_next_reflection_in_the_users_zone(
    tz: str, clock: str, after: str, last: str, want: str
) -> None:
    profile = Profile(reflections=True, reflect_time=clock, tz=tz)
    assert stamp(next_reflection(profile, _utc(after), last)) == want  # type: ignore[arg-type]


def test_a_user_who_moves_gets_the_time_of_the_new_zone() -> None:
    profile = Profile(reflections=True, reflect_time="20:00", tz="Europe/Berlin")
    after = _utc("2026-06-01T12:00:00+00:00")
    assert stamp(next_reflection(profile, after)) == "2026-06-01T18:00:00+00:00"  # type: ignore[arg-type]
    profile.tz = "America/Los_Angeles"  # flew west, the same afternoon; sent in Berlin already
    assert stamp(next_reflection(profile, after, "2026-06-01")) == "2026-06-03T03:00:00+00:00"  # type: ignore[arg-type]


def test_no_reflection_when_off_paused_or_without_a_time() -> None:
    after = _utc("2026-06-01T12:00:00+00:00")
    assert next_reflection(Profile(reflections=False, reflect_time="20:00"), after) is None
    assert next_reflection(Profile(reflections=True, reflect_time=""), after) is None
    paused = Profile(reflections=True, reflect_time="20:00", daily_paused=True)
    assert next_reflection(paused, after) is None


def test_a_time_in_the_gap_is_shifted_and_a_repeated_one_taken_first() -> None:
    from datetime import date  # noqa: PLC0415

    gap = at_local(date(2026, 3, 8), "02:30", "America/New_York")
    assert gap.astimezone(UTC).hour == 7  # 03:30 EDT
    twice = at_local(date(2026, 11, 1), "01:30", "America/New_York")
    assert stamp(twice) == "2026-11-01T05:30:00+00:00"  # 01:30 EDT, the first


FOLLOW = [  # when, typed time, zone, now (UTC), the follow-up (UTC)
    ("tonight", "", "Europe/Berlin", "2026-05-04T16:00:00+00:00", "2026-05-04T20:00:00+00:00"),
    ("tonight", "", "Europe/Berlin", "2026-05-04T19:30:00+00:00", "2026-05-04T21:30:00+00:00"),
    ("tomorrow", "", "America/New_York", "2026-03-07T18:00:00+00:00", "2026-03-09T00:00:00+00:00"),
    ("own", "at 7pm", "Asia/Kolkata", "2026-06-01T06:00:00+00:00", "2026-06-01T15:30:00+00:00"),
    (
        "own",
        "after school",
        "Asia/Kolkata",
        "2026-06-01T06:00:00+00:00",
        "2026-06-02T06:00:00+00:00",
    ),
    ("now", "", "", "2026-06-01T06:00:00+00:00", "2026-06-01T08:00:00+00:00"),
]


@pytest.mark.parametrize(("when", "typed", "tz", "now", "want"), FOLLOW)
def test_follow_up_comes_after_the_repair_in_local_time(
    when: str, typed: str, tz: str, now: str, want: str
) -> None:
    assert stamp(follow_up_at(when, typed, tz, _utc(now))) == want


def test_not_yet_asks_again_at_a_sensible_local_time() -> None:
    now = _utc("2026-05-04T20:00:00+00:00")  # 22:00 in Berlin: "tonight" is too late now
    assert stamp(later_at("tonight", "Europe/Berlin", now)) == "2026-05-04T22:00:00+00:00"
    assert stamp(later_at("tomorrow", "Europe/Berlin", now)) == "2026-05-05T17:00:00+00:00"
    assert stamp(later_at("week", "Europe/Berlin", now)) == "2026-05-11T20:00:00+00:00"


@pytest.mark.parametrize("rel", ["baby", "toddler", "child", "teen", "partner", "other"])
def test_prompts_never_repeat_until_the_matching_ones_are_used_up(
    content: Content, rel: str
) -> None:
    tags = content.locale("en").data["prompts"]
    keys = matching(tags, rel if rel != "other" else "anyone")
    used: list[str] = []
    shown = []
    for _ in range(len(keys)):
        key, used = pick_prompt(tags, rel, used, seed=3)
        shown.append(key)
    assert sorted(shown) == sorted(keys)  # every matching prompt once, none of another age
    themes = [tags[k]["theme"] for k in shown[:6]]
    assert len(set(themes)) == 6  # the themes take turns
    again, _ = pick_prompt(tags, rel, used, seed=3, skip=shown[-1])
    assert again in keys and again != shown[-1]  # a new round, never the one just shown
