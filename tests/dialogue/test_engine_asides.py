"""Side commands (/help, /privacy, /progress, /export) answer where the user is."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from dialogue.content import Content
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


SIDE = [Command("help"), Command("privacy"), Command("export"), Command("progress"),
        Command("timezone", "Berlin"), Command("pause"), Command("frobnicate")]  # fmt: skip


@pytest.mark.parametrize("command", SIDE, ids=[c.name for c in SIDE])
def test_a_side_answer_has_only_its_own_way_back(
    engine: Engine, now: datetime, command: Command
) -> None:
    s = at_body(engine, now)
    asked = s.token  # the body question's keyboard, as on screen
    turn = engine.handle(s, command, now, {"progress": {}})
    assert len(turn.replies) == 1  # the question is not printed again
    assert turn.session.state == "conflict.body" and turn.session.draft == s.draft
    assert [b.id for b in turn.replies[0].flat_buttons] == ["go_on"]  # no step buttons again
    assert turn.session.shows(asked) and turn.session.shows(turn.replies[0].token)
    pressed = engine.handle(turn.session, Press("heart", asked), now)  # the keyboard above
    assert not pressed.stale and pressed.session.draft["body"] == ["chest", "heart"]
    back = engine.handle(turn.session, Press("go_on", turn.replies[0].token), now)
    assert [r.key for r in back.replies] == ["conflict.body"]  # a short question: asked again
    assert [b.id for b in back.replies[0].flat_buttons if b.ticked] == ["chest"]


def at_entry(engine: Engine, now: datetime) -> tuple[Session, dict[str, Any]]:
    """A user reading a long journal entry, and what storage gives for it."""
    s = Session("u", seed=3)
    s.profile.onboarded, s.profile.relationship, s.profile.tz = True, "partner", "UTC"
    s.state = "journal.entry"
    s.draft = {"journal": {"page": 0, "more": False, "ids": [["reflection", "r1"]],
                           "open": ["reflection", "r1"]}}  # fmt: skip
    entry = {
        "kind": "reflection",
        "id": "r1",
        "at": "2026-11-20T20:00:00+00:00",
        "data": {"text": "Tonight I noticed more than I expected. " * 20, "prompt": ""},
    }
    return s, {"entry": entry, "journal": {"page": 0, "more": False, "entries": [entry]}}


@pytest.mark.parametrize("command", SIDE, ids=[c.name for c in SIDE])
def test_a_side_answer_at_a_journal_entry_never_prints_it_again(
    engine: Engine, content: Content, now: datetime, command: Command
) -> None:
    s, data = at_entry(engine, now)
    turn = engine.handle(s, command, now, {**data, "progress": {}})
    text = "\n".join(content.render(r, "en").text for r in turn.replies)
    assert "noticed more" not in text and len(turn.replies) == 1
    assert [b.id for b in turn.replies[0].flat_buttons] == ["go_on"]
    back = engine.handle(turn.session, Press("go_on", turn.replies[0].token), now, data)
    again = "\n".join(content.render(r, "en").text for r in back.replies)
    assert "noticed more" not in again  # the entry is still on screen above: not twice
    assert [r.key for r in back.replies] == ["common.where_we_were"]
    assert [b.id for b in back.replies[0].flat_buttons] == ["back", "menu"]
    assert back.session.state == "journal.entry"


def test_a_side_answer_during_onboarding_has_no_next_button(engine: Engine, now: datetime) -> None:
    s = engine.handle(Session("u", seed=1), Text("/start"), now).session
    assert s.state == "onboarding.welcome"
    for command in (Command("help"), Command("privacy"), Command("timezone", "Paris")):
        turn = engine.handle(s, command, now)
        assert [b.id for r in turn.replies for b in r.flat_buttons] == ["go_on"], command
        assert turn.session.state == "onboarding.welcome"


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
