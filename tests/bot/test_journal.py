"""Journal, progress and the picture through the coach and a real store (both engines)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.coach import Coach
from bot.storage import Store
from dialogue.content import Content
from dialogue.engine import Engine
from dialogue.events import Command, Press, parse_text
from dialogue.session import Session

MakeStore = Callable[..., Store]


def seed(store: Store, engine: Engine, now: datetime, plans: int) -> None:
    """A user with `plans` plans, a day apart, and a follow-up on the newest."""
    for n in range(plans):
        at = now - timedelta(days=plans - n)

        def step(_: Session | None, n: int = n, at: datetime = at) -> object:
            s = Session("u", seed=n + 1)
            s.profile.onboarded, s.profile.relationship, s.profile.name = True, "partner", "Robin"
            s.state, s.turn = "conflict.when", n * 10
            s.draft = {"what_happened": f"Argument number {n}", "moves": ["own_part"],
                       "line": f"line {n}"}  # fmt: skip
            return engine.handle(s, Press("now"), at)

        store.transact("u", step, at)  # type: ignore[arg-type]
    newest = store.plans("u")[0]
    with store.transaction() as run:
        went = store.sealer.seal(json.dumps({"outcome": "well", "plan_id": newest["id"]}))
        run("INSERT INTO outcomes VALUES (?, ?, ?, ?)", ("u", newest["id"], now.isoformat(), went))


def test_journal_pages_and_entries(
    make_store: MakeStore, engine: Engine, content: Content, now: datetime
) -> None:
    store = make_store()
    seed(store, engine, now, 7)
    coach = Coach(engine, store, clock=lambda: now)
    turn = coach.turn("u", Command("journal"))
    text = content.render(turn.replies[-1], "en").text  # type: ignore[union-attr]
    assert turn.session.state == "journal.list"  # type: ignore[union-attr]
    assert "How it went: Went well" in text and text.count("With Robin: “Argument number") == 4
    ids = [b.id for b in turn.replies[-1].flat_buttons]  # type: ignore[union-attr]
    assert ids == ["open1", "open2", "open3", "open4", "open5", "older", "menu"]
    turn = coach.turn("u", Press("older"))
    page2 = content.render(turn.replies[-1], "en").text  # type: ignore[union-attr]
    assert page2.count("With Robin: “Argument number") == 3  # 8 entries: 5 then 3
    assert [b.id for b in turn.replies[-1].flat_buttons] == [
        "open1",
        "open2",
        "open3",
        "newer",
        "menu",
    ]  # type: ignore[union-attr]
    turn = coach.turn("u", Press("open3"))
    entry = content.render(turn.replies[-1], "en").text  # type: ignore[union-attr]
    assert turn.session.state == "journal.entry"  # type: ignore[union-attr]
    assert "Argument number 0" in entry and "Your repair plan with Robin" in entry
    turn = coach.turn("u", Press("back"))
    assert turn.session.draft["journal"]["page"] == 1  # type: ignore[union-attr]
    assert coach.turn("u", Press("menu")).session.state == "menu.home"  # type: ignore[union-attr]


def test_journal_resumes_with_its_data(
    make_store: MakeStore, engine: Engine, content: Content, now: datetime
) -> None:
    store = make_store()
    seed(store, engine, now, 2)
    coach = Coach(engine, store, clock=lambda: now)
    coach.turn("u", parse_text("/journal"))
    coach.turn("u", Press("open1"))
    session, _ = store.load("u")
    shown = content.render(coach.current(session)[-1], "en").text  # type: ignore[arg-type]
    assert "How the repair went" in shown


def test_progress_draws_a_picture(make_store: MakeStore, engine: Engine, now: datetime) -> None:
    store = make_store()
    seed(store, engine, now, 3)
    coach = Coach(engine, store, clock=lambda: now)
    turn = coach.turn("u", Command("progress"))
    assert turn.replies[0].key == "progress.first"  # type: ignore[union-attr]
    chart = next(e for e in turn.effects if e.kind == "chart")  # type: ignore[union-attr]
    assert sum(chart.data["ruptures"]) == 3 and sum(chart.data["repairs"]) == 1
    png = coach.chart(chart.data, "en")
    assert png.startswith(b"\x89PNG") and len(png) > 10_000


def test_empty_journal_and_progress(
    make_store: MakeStore, engine: Engine, content: Content, now: datetime
) -> None:
    coach = Coach(engine, make_store(), clock=lambda: now)
    coach.turn("u", parse_text("/start"))
    turn = coach.turn("u", Command("journal"))
    assert "journal is empty" in content.render(turn.replies[-1], "en").text  # type: ignore[union-attr]
    assert coach.turn("u", Command("progress")).replies[0].key == "progress.none"  # type: ignore[union-attr]
