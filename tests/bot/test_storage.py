"""SQLite storage: one transaction per turn, versions, erasing for real."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path

import pytest

from bot.storage import ConflictError, SQLiteStore, StorageError
from bot.storage.sqlite import MIGRATIONS
from dialogue.engine import Engine, Turn
from dialogue.events import Command, Press, Text
from dialogue.session import Session


def turn_of(engine: Engine, event: object, now: datetime):
    def step(session: Session | None) -> Turn:
        return engine.handle(session or engine.new_session("u"), event, now)  # type: ignore[arg-type]

    return step


def test_turns_persist_with_versions(tmp_path: Path, engine: Engine, now: datetime) -> None:
    store = SQLiteStore(tmp_path / "c.db")
    assert store.load("u") == (None, 0)
    store.transact("u", turn_of(engine, Text("hi"), now), now)
    store.transact("u", turn_of(engine, Press("next"), now), now)
    store.close()
    again = SQLiteStore(tmp_path / "c.db")
    session, version = again.load("u")
    assert session is not None and session.state == "onboarding.relationship"
    assert version == 2


def test_a_failed_turn_writes_nothing(tmp_path: Path, engine: Engine, now: datetime) -> None:
    store = SQLiteStore(tmp_path / "c.db")
    store.transact("u", turn_of(engine, Text("hi"), now), now)

    def broken(session: Session | None) -> Turn:
        turn = engine.handle(session, Press("next"), now)  # type: ignore[arg-type]
        raise RuntimeError(turn)

    with pytest.raises(RuntimeError):
        store.transact("u", broken, now)
    assert store.load("u")[0].state == "onboarding.welcome"  # type: ignore[union-attr]


def test_a_turn_holds_the_write_lock(tmp_path: Path, engine: Engine, now: datetime) -> None:
    path = tmp_path / "c.db"
    store = SQLiteStore(path)
    store.transact("u", turn_of(engine, Text("hi"), now), now)
    blocked = []

    def with_intruder(session: Session | None) -> Turn:
        other = sqlite3.connect(path, timeout=0.05)
        try:
            other.execute("UPDATE sessions SET version = version + 10")
        except sqlite3.OperationalError as err:
            blocked.append(str(err))
        finally:
            other.close()
        return engine.handle(session, Press("next"), now)  # type: ignore[arg-type]

    store.transact("u", with_intruder, now)
    assert blocked and "locked" in blocked[0]
    assert store.load("u")[1] == 2


def test_a_stale_version_is_a_conflict(
    tmp_path: Path, engine: Engine, now: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SQLiteStore(tmp_path / "c.db")
    store.transact("u", turn_of(engine, Text("hi"), now), now)
    store.transact("u", turn_of(engine, Press("next"), now), now)
    session, _ = store.load("u")
    monkeypatch.setattr(store, "load", lambda _user: (session, 1))  # as if read before turn 2
    with pytest.raises(ConflictError):
        store.transact("u", turn_of(engine, Press("partner"), now), now)
    monkeypatch.undo()
    assert store.load("u")[0].state == "onboarding.relationship"  # type: ignore[union-attr]


def test_plans_and_follow_ups_are_stored(tmp_path: Path, engine: Engine, now: datetime) -> None:
    store = SQLiteStore(tmp_path / "c.db")
    session = Session("u", seed=1)
    session.profile.onboarded, session.profile.relationship = True, "partner"
    session.state = "conflict.when"
    session.draft = {"what_happened": "x", "moves": ["own_part"], "line": "sorry", "when": "now"}
    store.transact("u", lambda _: engine.handle(session, Press("now"), now), now)
    plans = store.plans("u")
    assert [p["moves"] for p in plans] == [["own_part"]]
    due = store.db.execute("SELECT kind, due_at FROM schedule").fetchall()
    assert due == [("follow_up", plans[0]["follow_up_at"])]


def test_erase_leaves_no_trace_in_the_file(tmp_path: Path, engine: Engine, now: datetime) -> None:
    path = tmp_path / "c.db"
    store = SQLiteStore(path)
    marker = "MARKER-7f3a9c-unique-words"
    for event in (Text("hi"), Press("next"), Press("partner"), Text("Robin")):
        store.transact("u", turn_of(engine, event, now), now)
    session = store.load("u")[0]
    assert session is not None
    session.profile.onboarded = True
    session.state = "conflict.what_happened"
    store.transact("u", lambda _: engine.handle(session, Text(marker), now), now)
    assert marker.encode() in path.read_bytes() + Path(f"{path}-wal").read_bytes()
    store.transact("u", turn_of(engine, Command("delete"), now), now)
    store.transact("u", turn_of(engine, Press("erase"), now), now)
    for table in ("users", "sessions", "plans", "schedule"):
        assert store.db.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,)
    store.close()
    for f in tmp_path.iterdir():
        assert marker.encode() not in f.read_bytes(), f.name
        assert b"Robin" not in f.read_bytes(), f.name


def test_migrations_run_once_from_empty(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    SQLiteStore(path).close()
    store = SQLiteStore(path)
    versions = store.db.execute("SELECT version FROM schema_version").fetchall()
    assert versions == [(v,) for v in range(1, len(MIGRATIONS) + 1)]


def test_an_unusable_path_is_a_storage_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StorageError):
        SQLiteStore(blocker / "sub" / "c.db")
