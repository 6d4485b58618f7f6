"""/export for a person: the words the user saw, each plan once, no engine internals."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.coach import Coach
from bot.console import Console
from bot.export import document, for_person
from bot.storage import Store, open_store
from bot.telegram_adapter.runtime import Runtime
from dialogue.content import Content
from dialogue.engine import Engine
from dialogue.events import Press
from dialogue.session import Session

LINE = "I'm sorry I snapped. Can we start again?"
ANSWER = "We laughed at dinner."
NOTE = "She hugged me after."
THEIRS = "Robin was exhausted after work."
MINE = "I raised my voice."


def _labels(content: Content, group: str) -> dict[str, str]:
    """A label group: id -> the words."""
    return {k.split(".", 1)[1]: v for k, v in content.locale("en").labels.items()
            if k.startswith(group + ".")}  # fmt: skip


def _keys(node: Any) -> set[str]:
    """Every key of a JSON document, at any depth."""
    if isinstance(node, dict):
        return set(node) | {k for v in node.values() for k in _keys(v)}
    if isinstance(node, list):
        return {k for v in node for k in _keys(v)}
    return set()


def _values(node: Any) -> set[str]:
    """Every value of a JSON document, at any depth."""
    if isinstance(node, dict | list):
        return {v for x in (node.values() if isinstance(node, dict) else node) for v in _values(x)}
    return {str(node)}


def seed_user(store: Store, engine: Engine, now: datetime) -> Session:
    """A partner's user with one plan (via the engine), how it went and a reflection."""

    def step(_: Session | None) -> object:
        s = Session("u", seed=77)
        s.profile.onboarded, s.profile.relationship, s.profile.name = True, "partner", "Robin"
        s.profile.tz, s.profile.reflections, s.profile.reflect_time = "Europe/Berlin", True, "21:00"
        s.state, s.turn = "conflict.when", 5
        s.draft = {"what_happened": "We argued about the dishes.", "moves": ["own_part"],
                   "emotions": ["hurt"], "body": ["chest"], "space": "yes",
                   "space_feel": "rejected", "their_side": THEIRS, "my_part": MINE,
                   "line": LINE}  # fmt: skip
        return engine.handle(s, Press("tomorrow"), now)

    turn = store.transact("u", step, now)  # type: ignore[arg-type]
    plan = store.plans("u")[0]
    later = now + timedelta(days=1)
    with store.transaction() as run:
        seal = store.sealer.seal
        went = {"plan_id": plan["id"], "at": later.isoformat(), "outcome": "well",
                "them": "Robin", "note": NOTE}  # fmt: skip
        said = {"id": "r1", "at": later.isoformat(), "prompt": "anyone_in_step", "text": ANSWER}
        run("INSERT INTO outcomes VALUES (?, ?, ?, ?)",
            ("u", plan["id"], later.isoformat(), seal(json.dumps(went))))  # fmt: skip
        run("INSERT INTO reflections VALUES (?, ?, ?, ?)",
            ("u", "r1", later.isoformat(), seal(json.dumps(said))))  # fmt: skip
    return turn.session  # type: ignore[attr-defined]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A SQLite store in a temporary folder."""
    opened = open_store(tmp_path / "coach.db")
    yield opened
    opened.close()


def test_the_export_is_in_the_words_the_user_saw(
    store: Store, engine: Engine, content: Content, now: datetime
) -> None:
    seed_user(store, engine, now)
    body = document(store, "u", now, content, "en")
    doc, text = json.loads(body), body.decode()
    name = _labels(content, "export")
    plans = doc[name["plans"]]
    assert len(plans) == 1 and text.count(LINE) == 1  # the plan once, not in a session too
    plan = plans[0]
    assert plan[name["moves"]] == [_labels(content, "move")["own_part"]]
    assert plan[name["feelings"]] == ["Hurt"] and plan[name["body"]] == ["Tight chest"]
    assert plan[name["pulled_away"]] == _labels(content, "space")["yes"]
    assert plan[name["when"]] == _labels(content, "when")["tomorrow"]
    assert plan[name["with"]] == "Robin" and plan[name["opening"]] == LINE
    assert plan[name["their_side"]] == THEIRS and plan[name["my_part"]] == MINE  # whole
    assert plan[name["space_feel"]] == _labels(content, "space_feel")["rejected"]
    you = doc[name["you"]]
    assert you[name["coaching_about"]] == "My partner" and you[name["daily"]] == name["daily_on"]
    went = doc[name["outcomes"]][0]
    assert went[name["how_it_went"]] == "Went well" and went[name["note"]] == NOTE
    reflection = doc[name["reflections"]][0]
    assert reflection[name["answer"]] == ANSWER
    assert reflection[name["question"]].startswith("When did the two of you feel in step")
    assert doc[name["coming_up"]][0][name["what"]] == name["follow_up"]
    assert (
        plan[name["made"]] == f"{now.astimezone(ZoneInfo('Europe/Berlin')):%Y-%m-%d %H:%M}"
    )  # the user's zone


def test_the_export_has_no_ids_or_engine_internals(
    store: Store, engine: Engine, content: Content, now: datetime
) -> None:
    session = seed_user(store, engine, now)
    body = document(store, "u", now, content, "en")
    doc = json.loads(body)
    ids = {"own_part", "hurt", "chest", "tomorrow", "well", "follow_up", "anyone_in_step"}
    assert not ids & _values(doc)  # each became the label the user saw
    internals = {"seed", "turn", "history", "draft", "state", "schema", "session", "id", "data"}
    assert not internals & {k.casefold() for k in _keys(doc)}
    assert str(session.seed) not in body.decode()
    assert set(doc) <= set(_labels(content, "export").values())  # section names from content


def test_a_plan_the_store_lacks_still_appears_once(content: Content) -> None:
    kept = {"id": "p1", "created": "2026-11-27T18:30+00:00", "them": "Sam", "line": "one",
            "moves": [], "when": "own", "when_text": "after the match"}  # fmt: skip
    only_session = {**kept, "id": "p2", "line": "two"}
    raw = {"exported_at": "2026-11-27T18:30:00+00:00", "user": None,
           "session": {"profile": {}, "plans": [kept, only_session]},
           "plans": [{"id": "p1", "created_at": kept["created"], "data": kept}]}  # fmt: skip
    doc = for_person(raw, content, "en")
    plans = doc[_labels(content, "export")["plans"]]
    assert [p["Opening line"] for p in plans] == ["one", "two"]
    assert plans[0]["When"] == "after the match"  # what they typed, as they typed it


class _Sender:
    """Records the documents a Runtime sends."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, str, bytes, str]] = []

    async def document(self, chat_id: int, name: str, body: bytes, caption: str) -> None:
        self.sent.append((chat_id, name, body, caption))


def test_terminal_and_telegram_give_the_same_document(
    store: Store, engine: Engine, content: Content, now: datetime, tmp_path: Path
) -> None:
    seed_user(store, engine, now)
    console = Console(engine, store, "u", clock=lambda: now)
    console.export_dir = tmp_path / "exports"
    written = console.export(now).read_bytes()
    sender = _Sender()
    runtime = Runtime(Coach(engine, store, clock=lambda: now), sender)  # type: ignore[arg-type]
    asyncio.run(runtime.export(1, "u", "en"))
    assert sender.sent[0][2] == written == document(store, "u", now, content, "en")
    assert LINE in written.decode()


def test_answers_of_a_flow_under_way_are_exported_too(content: Content) -> None:
    """They are stored (the session's draft), so the export has them; the engine's own
    bookkeeping in the draft stays out."""
    draft = {"what_happened": "We fought.", "my_part": MINE, "other": {"arousal": 3.0}}
    raw = {"session": {"profile": {}, "draft": draft}}
    name = _labels(content, "export")
    unfinished = for_person(raw, content, "en")[name["unfinished"]]
    assert unfinished == {name["what_happened"]: "We fought.", name["my_part"]: MINE}
