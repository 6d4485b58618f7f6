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
