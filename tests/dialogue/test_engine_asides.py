"""Side commands (/help, /privacy, /progress, /export) answer where the user is."""

from __future__ import annotations

from datetime import datetime

import pytest

from dialogue.engine import Engine
from dialogue.events import Command, Press, Text
from dialogue.session import Session


def at_body(engine: Engine, now: datetime) -> Session:
    """A user at the body question of a conflict, one box ticked."""
    s = Session("u", seed=5)
    s.profile.onboarded, s.profile.relationship = True, "partner"
    s.state = "conflict.my_part"
    s = engine.handle(s, Text("I walked out."), now).session
    return engine.handle(s, Press("chest"), now).session


@pytest.mark.parametrize(("command", "key"), [("help", "menu.help"), ("privacy", "menu.privacy"),
                                              ("export", "menu.export")])  # fmt: skip
def test_a_side_answer_keeps_the_place_and_its_buttons(
    engine: Engine, now: datetime, command: str, key: str
) -> None:
    s = at_body(engine, now)
    asked = s.token  # the body question's keyboard, as on screen
    turn = engine.handle(s, Command(command), now, {"progress": {}})
    assert [r.key for r in turn.replies] == [key]  # the question is not printed again
    assert turn.session.state == "conflict.body" and turn.session.draft == s.draft
    ids = [b.id for b in turn.replies[0].flat_buttons]
    ticked = [b.id for b in turn.replies[0].flat_buttons if b.ticked]
    assert ids[:2] == ["chest", "heart"] and ids[-1] == "done" and ticked == ["chest"]
    assert turn.session.shows(asked) and turn.session.shows(turn.replies[0].token)
    pressed = engine.handle(turn.session, Press("heart", asked), now)
    assert not pressed.stale and pressed.session.draft["body"] == ["chest", "heart"]


def test_progress_with_nothing_logged_draws_nothing(engine: Engine, now: datetime) -> None:
    turn = engine.handle(at_body(engine, now), Command("progress"), now, {"progress": {}})
    assert [r.key for r in turn.replies] == ["progress.none"]
    assert [e.kind for e in turn.effects] == []


def test_progress_weeks_are_the_users_and_labelled_in_words(engine: Engine) -> None:
    s = at_body(engine, datetime.fromisoformat("2026-11-20T12:00:00+00:00"))
    s.profile.tz = "Pacific/Auckland"
    sunday_utc = datetime.fromisoformat("2026-11-29T13:00:00+00:00")  # Monday 02:00 in Auckland
    history = {"plans": [{"id": "p", "created": "2026-11-20T12:00:00+00:00"}], "outcomes": []}
    turn = engine.handle(s, Command("progress"), sunday_utc, {"progress": history})
    chart = next(e for e in turn.effects if e.kind == "chart")
    assert chart.data["weeks"][-1] == "2026-11-30"
    assert chart.data["week_labels"][-1] == "Nov 30" and chart.data["week_labels"][0] == "Oct 12"
    assert [r.key for r in turn.replies] == ["progress.first"]


def test_help_before_the_start_is_its_own_page(engine: Engine, now: datetime) -> None:
    turn = engine.handle(Session("u", seed=1), Command("help"), now)
    assert turn.session.state == "menu.help" and [r.key for r in turn.replies] == ["menu.help"]


def test_a_real_step_still_makes_older_keyboards_stale(engine: Engine, now: datetime) -> None:
    s = at_body(engine, now)
    asked = s.token
    side = engine.handle(s, Command("help"), now)
    moved = engine.handle(side.session, Press("done", asked), now)
    assert moved.session.state == "conflict.emotions"
    assert not moved.session.shows(asked) and not moved.session.shows(side.replies[0].token)
