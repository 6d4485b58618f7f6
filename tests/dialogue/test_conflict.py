"""The conflict flow's calming exercises: again goes on, /back goes one exercise back."""

from __future__ import annotations

from datetime import datetime

from dialogue.engine import Engine, Turn
from dialogue.events import Command, Press
from dialogue.session import Session


def calm_index(turn: Turn) -> int:
    """Which exercise the turn's last reply shows."""
    reply = turn.replies[-1]
    assert reply.key == "conflict.calm"
    return int(reply.vars["index"])


def test_back_from_an_exercise_shows_the_one_before(engine: Engine, now: datetime) -> None:
    s = Session("u", seed=2)
    s.profile.onboarded, s.profile.relationship = True, "partner"
    s.state, s.history = "conflict.intensity", ["what_happened", "their_side"]
    first = engine.handle(s, Press("9"), now)
    assert calm_index(first) == 0
    second = engine.handle(first.session, Press("again"), now)
    third = engine.handle(second.session, Press("again"), now)
    assert (calm_index(second), calm_index(third)) == (1, 2)
    back = engine.handle(third.session, Command("back"), now)
    assert back.replies[0].key == "common.going_back" and calm_index(back) == 1
    back = engine.handle(back.session, Command("back"), now)
    assert calm_index(back) == 0
    back = engine.handle(back.session, Command("back"), now)
    assert back.session.state == "conflict.intensity"
    again = engine.handle(back.session, Press("9"), now)
    assert calm_index(again) == 0  # coming back in starts from the first exercise


def test_now_while_still_flooded_is_checked_once(engine: Engine, now: datetime) -> None:
    s = Session("u", seed=2)
    s.profile.onboarded, s.profile.relationship = True, "partner"
    s.state, s.history = "conflict.when", ["moves", "opening"]
    s.draft = {"intensity": 9, "intensity_after": 8, "space": "no", "moves": ["own_part"]}
    checked = engine.handle(s, Press("now"), now)
    assert checked.session.state == "conflict.now_check"
    assert checked.replies[-1].vars["high"] and not checked.replies[-1].vars["space"]
    again = engine.handle(engine.handle(checked.session, Press("wait"), now).session,
                          Press("now"), now)  # fmt: skip
    assert again.session.state == "conflict.plan"  # asked once, then the choice stands
    calm = dict(s.draft, intensity_after=3)
    s.draft = calm
    assert engine.handle(s, Press("now"), now).session.state == "conflict.plan"
