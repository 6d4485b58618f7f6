"""The journal through the pure engine: pages, presses, side commands, entries whole."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dialogue.content import Content
from dialogue.engine import Engine, Turn
from dialogue.events import Command, Press
from dialogue.flows.journal import first_words, view, wants
from dialogue.session import Session

AT = "2026-11-20T18:00:00+00:00"


def plan(n: int, what: str = "") -> dict[str, Any]:
    """A stored plan entry with its own words."""
    data = {"id": f"p{n}", "them": "Zoë", "what_happened": what or f"Argument number {n}",
            "emotions": [], "body": [], "moves": ["own_part"], "line": "Sorry.", "when": "now",
            "space": "no"}  # fmt: skip
    return {"kind": "plan", "id": f"p{n}", "at": AT, "data": data}


def page(number: int, count: int, more: bool) -> dict[str, Any]:
    """A journal page as the store gives it."""
    first = number * 5
    return {"journal": {"page": number, "more": more,
                        "entries": [plan(first + i) for i in range(count)]}}  # fmt: skip


def session() -> Session:
    s = Session("u", seed=3)
    s.profile.onboarded, s.profile.relationship, s.profile.name = True, "partner", "Zoë"
    s.state = "menu.home"
    return s


def text_of(turn: Turn, content: Content) -> str:
    return "\n".join(content.render(r, "en").text for r in turn.replies)


def opened(engine: Engine, now: datetime) -> Turn:
    """/journal with a full first page and more to come."""
    return engine.handle(session(), Command("journal"), now, page(0, 5, True))


def test_turning_a_page_is_taken_as_current_and_not_called_stale(
    engine: Engine, content: Content, now: datetime
) -> None:
    first = opened(engine, now)
    press = Press("older", first.replies[-1].token)
    assert wants(first.session, press) == ("journal", 1)
    turn = engine.handle(first.session, press, now, page(1, 2, False))  # the last page
    assert [r.key for r in turn.replies] == ["journal.list"] and not turn.stale
    assert [b.id for b in turn.replies[-1].flat_buttons] == ["open1", "open2", "newer", "menu"]
    assert "Argument number 6" in text_of(turn, content)
    newer = Press("newer", turn.replies[-1].token)
    assert wants(turn.session, newer) == ("journal", 0)
    back = engine.handle(turn.session, newer, now, page(0, 5, True))
    assert back.session.draft["journal"]["page"] == 0 and "older" in [
        b.id for b in back.replies[-1].flat_buttons
    ]


def test_a_press_the_page_on_screen_lacks_changes_nothing(
    engine: Engine, content: Content, now: datetime
) -> None:
    last = engine.handle(session(), Command("journal"), now, page(0, 2, False))
    press = Press("older")  # no older page on screen: a stale press
    assert wants(last.session, press) == ("journal", 0)  # the page shown, not one further
    turn = engine.handle(last.session, press, now, page(0, 2, False))
    assert [r.key for r in turn.replies] == ["common.stale", "journal.list"]
    assert turn.session.draft["journal"] == last.session.draft["journal"]
    assert "Argument number 1" in text_of(turn, content)
    inside = engine.handle(last.session, Press("open1"), now, {"entry": plan(0)})
    assert wants(inside.session, Press("open2")) == ("entry", "plan", "p0")  # not p1


def test_an_entry_opens_after_progress_from_the_list_shown_before(
    engine: Engine, content: Content, now: datetime
) -> None:
    first = opened(engine, now)
    listed = first.replies[-1].token
    side = engine.handle(first.session, Command("progress"), now, {"progress": {}})
    assert [r.key for r in side.replies] == ["progress.none"]  # no list printed again
    assert [b.id for b in side.replies[0].flat_buttons] == ["go_on"]  # its own way back
    assert side.session.draft["journal"] == first.session.draft["journal"]
    press = Press("open2", listed)  # on the journal message from before /progress
    assert side.session.shows(listed)
    assert wants(side.session, press) == ("entry", "plan", "p1")
    turn = engine.handle(side.session, press, now, {"entry": plan(1)})
    shown = text_of(turn, content)
    assert turn.session.state == "journal.entry" and "Argument number 1" in shown
    assert "no longer here" not in shown


def test_the_list_comes_back_whole_after_sos(
    engine: Engine, content: Content, now: datetime
) -> None:
    first = opened(engine, now)
    sos = engine.handle(first.session, Command("sos"), now)
    resume = Press("resume")
    assert wants(sos.session, resume) == ("journal", 0)
    turn = engine.handle(sos.session, resume, now, page(0, 5, True))
    assert turn.session.state == "journal.list"
    assert "Argument number 4" in text_of(turn, content)
    entry = engine.handle(turn.session, Press("open3"), now, {"entry": plan(2)})
    assert "Argument number 2" in text_of(entry, content)
    inside_sos = engine.handle(entry.session, Command("sos"), now)
    assert wants(inside_sos.session, resume) == ("entry", "plan", "p2")


def test_entries_are_told_apart_by_their_own_first_words_escaped(
    engine: Engine, content: Content, now: datetime
) -> None:
    words = "We fought about <b>{{ 7*7 }}</b> the dishes again and again tonight"
    data = {"journal": {"page": 0, "more": False, "entries": [
        plan(0, words), plan(1, "She was late for the pickup"),
        {"kind": "reflection", "id": "r1", "at": AT, "data": {"text": "Slept badly, short fuse"}},
    ]}}  # fmt: skip
    turn = engine.handle(session(), Command("journal"), now, data)
    rendered = content.render(turn.replies[-1], "en")
    assert "With Zoë: “She was late for the pickup”" in rendered.text
    assert "Reflection: “Slept badly, short fuse”" in rendered.text
    assert "&lt;b&gt;{{ 7*7 }}&lt;/b&gt;" in rendered.html and "49" not in rendered.html
    assert "Repair plan with" not in rendered.text


def test_first_words() -> None:
    assert first_words("one two three") == "one two three"
    assert first_words("a b c d e f g h i") == "a b c d e f g…"
    assert first_words("x" * 100).endswith("…") and len(first_words("x" * 100)) == 48
    assert first_words("") == ""


def test_dates_are_the_users_local_days() -> None:
    late = {"kind": "reflection", "id": "r", "at": "2026-11-27T23:30:00+00:00", "data": {}}
    assert view(late, "Asia/Tokyo")["day"] == "2026-11-28"
    assert view(late, "America/New_York")["day"] == "2026-11-27"
    assert view(late, "")["day"] == "2026-11-27"
    assert view({**late, "at": "garbled"}, "Asia/Tokyo")["day"] == "garbled"


def test_an_entry_shown_whole_has_every_answer(
    engine: Engine, content: Content, now: datetime
) -> None:
    s = session()
    s.state = "conflict.when"
    s.draft = {"what_happened": "We argued at dinner.", "their_side": "She felt unheard.",
               "my_part": "I raised my voice.", "intensity": 8, "space": "yes",
               "space_feel": "anxious", "moves": ["own_part"], "line": "I'm sorry.",
               "now_checked": True}  # fmt: skip
    saved = engine.handle(s, Press("now"), now).session.plans[-1]
    assert saved["their_side"] == "She felt unheard." and saved["my_part"] == "I raised my voice."
    s.profile.tz = "Asia/Tokyo"
    s.state = "journal.list"
    s.draft = {"journal": {"page": 0, "more": False, "ids": [["plan", saved["id"]]]}}
    entry = {"kind": "plan", "id": saved["id"], "at": "2026-11-27T18:30:00+00:00", "data": saved}
    shown = text_of(engine.handle(s, Press("open1"), now, {"entry": entry}), content)
    for part in ("We argued at dinner.", "She felt unheard.", "I raised my voice.",
                 "8 out of 10", "Anxious", "I'm sorry.", "2026-11-28"):  # fmt: skip
        assert part in shown, part
