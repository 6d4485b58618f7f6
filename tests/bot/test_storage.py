"""Storage on both engines: one transaction per turn, versions, locks, erasing for real."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.storage import AlreadyApplied, ConflictError, Sealer, SQLiteStore, StorageError, Store
from bot.storage.crypto import new_key
from bot.storage.schema import SCHEMA_VERSION, ddl, metadata
from dialogue.engine import Engine, Turn
from dialogue.events import Command, Press, Text
from dialogue.session import Session

MakeStore = Callable[..., Store]


def turn_of(engine: Engine, event: object, now: datetime) -> Callable[[Session | None], Turn]:
    def step(session: Session | None) -> Turn:
        return engine.handle(session or engine.new_session("u"), event, now)  # type: ignore[arg-type]

    return step


def planned(engine: Engine, now: datetime, line: str = "sorry") -> Callable[[Session | None], Turn]:
    """A step that finishes a plan (the session set up at the last question)."""

    def step(_: Session | None) -> Turn:
        s = Session("u", seed=1)
        s.profile.onboarded, s.profile.relationship = True, "partner"
        s.state = "conflict.when"
        s.draft = {"what_happened": line, "moves": ["own_part"], "line": line}
        return engine.handle(s, Press("now"), now)

    return step


def test_turns_persist_with_versions(make_store: MakeStore, engine: Engine, now: datetime) -> None:
    store = make_store()
    assert store.load("u") == (None, 0)
    store.transact("u", turn_of(engine, Text("hi"), now), now)
    store.transact("u", turn_of(engine, Press("next"), now), now)
    store.close()
    session, version = make_store().load("u")
    assert session is not None and session.state == "onboarding.relationship"
    assert version == 2


def test_an_update_is_applied_once(make_store: MakeStore, engine: Engine, now: datetime) -> None:
    store = make_store()
    store.transact("u", turn_of(engine, Text("hi"), now), now, update_id=41)
    with pytest.raises(AlreadyApplied):
        store.transact("u", turn_of(engine, Press("next"), now), now, update_id=41)
    assert store.load("u")[1] == 1


def test_a_failed_turn_writes_nothing(make_store: MakeStore, engine: Engine, now: datetime) -> None:
    store = make_store()
    store.transact("u", turn_of(engine, Text("hi"), now), now)

    def broken(session: Session | None) -> Turn:
        raise RuntimeError(engine.handle(session, Press("next"), now))  # type: ignore[arg-type]

    with pytest.raises(RuntimeError):
        store.transact("u", broken, now, update_id=7)
    assert store.load("u")[0].state == "onboarding.welcome"  # type: ignore[union-attr]
    store.transact("u", turn_of(engine, Press("next"), now), now, update_id=7)  # not marked done


def test_a_stale_version_is_a_conflict(
    make_store: MakeStore, engine: Engine, now: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = make_store()
    store.transact("u", turn_of(engine, Text("hi"), now), now)
    store.transact("u", turn_of(engine, Press("next"), now), now)
    session, _ = store.load("u")
    monkeypatch.setattr(store, "_load", lambda run, user: (session, 1))  # as if read before turn 2
    with pytest.raises(ConflictError):
        store.transact("u", turn_of(engine, Press("partner"), now), now)
    monkeypatch.undo()
    assert store.load("u")[0].state == "onboarding.relationship"  # type: ignore[union-attr]


def test_one_users_turns_wait_for_each_other(
    make_store: MakeStore, engine: Engine, now: datetime
) -> None:
    """A second worker's turn for the same user waits until the first one commits."""
    first, second = make_store(), make_store()
    first.transact("u", turn_of(engine, Text("hi"), now), now)
    order: list[str] = []
    inside = threading.Event()

    def slow(session: Session | None) -> Turn:
        inside.set()
        threading.Event().wait(0.3)
        order.append("first")
        return engine.handle(session, Press("next"), now)  # type: ignore[arg-type]

    def other() -> None:
        inside.wait(5)
        second.transact(
            "u", lambda s: order.append("second") or engine.handle(s, Press("partner"), now), now
        )  # type: ignore[arg-type, func-returns-value]

    t = threading.Thread(target=other)
    t.start()
    first.transact("u", slow, now)
    t.join(10)
    assert order == ["first", "second"]
    assert first.load("u")[0].state == "onboarding.name"  # type: ignore[union-attr]


def test_plans_and_follow_ups_are_stored(
    make_store: MakeStore, engine: Engine, now: datetime
) -> None:
    store = make_store()
    store.transact("u", planned(engine, now), now)
    plans = store.plans("u")
    assert [p["moves"] for p in plans] == [["own_part"]]
    assert store.export("u", now)["schedule"] == [
        {"kind": "follow_up", "due_at": plans[0]["follow_up_at"], "ref": plans[0]["id"]}
    ]


def test_export_is_everything_readable(
    make_store: MakeStore, engine: Engine, now: datetime
) -> None:
    store = make_store(Sealer([new_key()]))
    store.transact("u", planned(engine, now, "I yelled & I'm sorry"), now)
    doc = json.loads(json.dumps(store.export("u", now)))
    assert doc["schema"] == 1 and doc["user"]["id"] == "u"
    assert doc["plans"][0]["data"]["line"] == "I yelled & I'm sorry"
    assert doc["session"]["user_id"] == "u"
    assert store.export("nobody", now)["user"] is None


def _everything(store: Store) -> bytes:
    """Every byte the database holds: the files of SQLite, the rows of PostgreSQL."""
    if isinstance(store, SQLiteStore):
        return b"".join(p.read_bytes() for p in Path(store.path).parent.iterdir() if p.is_file())
    with store.transaction() as run:
        rows: list[Any] = []
        for table in ("users", "sessions", "plans", "outcomes", "reflections", "schedule"):
            rows += run(f"SELECT * FROM {table}", ()).fetchall()
    return repr(rows).encode()


def test_erase_leaves_no_trace(make_store: MakeStore, engine: Engine, now: datetime) -> None:
    store = make_store()
    marker = "MARKER-7f3a9c-unique-words"
    for event in (Text("hi"), Press("next"), Press("partner"), Text("Robin")):
        store.transact("u", turn_of(engine, event, now), now)
    store.transact("u", planned(engine, now, marker), now)
    store.transact("other", turn_of(engine, Text("hello there"), now), now)
    assert marker.encode() in _everything(store)
    store.transact("u", turn_of(engine, Command("delete"), now), now)
    store.transact("u", turn_of(engine, Press("erase"), now), now)
    assert set(store.user_rows("u").values()) == {0}
    assert store.user_rows("other")["sessions"] == 1  # nobody else's data is touched
    store.close()
    reopened = make_store()
    assert marker.encode() not in _everything(reopened)
    assert b"Robin" not in _everything(reopened)


def test_encryption_at_rest_and_rotation(
    make_store: MakeStore, engine: Engine, now: datetime
) -> None:
    old, new = new_key(), new_key()
    store = make_store(Sealer([old]))
    store.transact("u", planned(engine, now, "SECRET-LINE-42"), now)
    assert b"SECRET-LINE-42" not in _everything(store)
    assert store.plans("u")[0]["line"] == "SECRET-LINE-42"
    rotated = make_store(Sealer([new, old]))
    assert rotated.rekey() == 1  # the user's own key; the session and plan are sealed with it
    assert make_store(Sealer([new])).plans("u")[0]["line"] == "SECRET-LINE-42"
    with pytest.raises(StorageError):
        make_store(Sealer([old])).load("u")
    with pytest.raises(StorageError):
        make_store().load("u")  # no key at all


def test_plain_rows_are_sealed_by_rekey(
    make_store: MakeStore, engine: Engine, now: datetime
) -> None:
    make_store().transact("u", planned(engine, now, "PLAIN-WORDS"), now)
    key = new_key()
    store = make_store(Sealer([key]))
    assert store.plans("u")[0]["line"] == "PLAIN-WORDS"  # written before there was a key
    assert store.rekey() == 2
    assert b"PLAIN-WORDS" not in _everything(store)


def test_migrations_from_empty_and_again(make_store: MakeStore) -> None:
    store = make_store()
    assert store.migrate() == SCHEMA_VERSION  # a second run changes nothing
    with store.transaction() as run:
        versions = run("SELECT version FROM schema_version ORDER BY version", ()).fetchall()
        run("INSERT INTO schema_version VALUES (?)", (SCHEMA_VERSION + 1,))
    assert [v[0] for v in versions] == list(range(1, SCHEMA_VERSION + 1))
    with pytest.raises(StorageError, match="newer"):
        make_store()


def test_users_can_be_inactive_and_come_back(
    make_store: MakeStore, engine: Engine, now: datetime
) -> None:
    store = make_store()
    store.transact("u", turn_of(engine, Text("hi"), now), now)
    store.set_active("u", False)
    assert not store.is_active("u")
    store.transact("u", turn_of(engine, Press("next"), now), now)
    assert store.is_active("u")
    assert store.first_notice(-100) and not store.first_notice(-100)


def test_sqlite_turn_holds_the_write_lock(tmp_path: Path, engine: Engine, now: datetime) -> None:
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


def test_an_unusable_path_is_a_storage_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StorageError):
        SQLiteStore(blocker / "sub" / "c.db")


def test_outbox_keeps_a_turns_messages_until_sent(
    make_store: MakeStore, engine: Engine, now: datetime
) -> None:
    store = make_store(Sealer([new_key()]))
    messages = [{"html": "one"}, {"html": "two"}, {"html": "three"}]
    store.transact("u", turn_of(engine, Text("hi"), now), now, update_id=5,
                   outbox=lambda turn: messages)  # fmt: skip
    assert store.unsent("u", 5) == list(enumerate(messages))
    assert b"three" not in _everything(store) if isinstance(store, SQLiteStore) else True
    assert store.claim_next("u")[:2] == (5, 0)  # type: ignore[index]
    assert store.claim_next("u")[:2] == (5, 1)  # type: ignore[index]
    assert store.claim_next("u")[:2] == (5, 2)  # type: ignore[index]
    assert store.claim_next("u") is None  # claimed once: nobody else gets them
    assert store.claim_next("u", done=(5, 0)) is None  # 0 went out: forgotten
    assert store.unsent("u", 5) == []  # 1 and 2 are claimed (in doubt if their sender died)
    assert store.prune(now + timedelta(days=3))["outbox"] == 2


@pytest.mark.parametrize("released", range(SCHEMA_VERSION))
def test_migrates_from_every_released_schema(
    released: int, make_store: MakeStore, engine: Engine, now: datetime
) -> None:
    """A database left at schema `released` (0: empty) opens at the newest schema."""
    store = make_store()
    with store.transaction() as run:  # take the database back to `released`
        for table in reversed(metadata.sorted_tables):
            run(f"DROP TABLE {table.name}", ())
        run("DELETE FROM schema_version", ())
        for step in range(released):
            for statement in ddl(step, store.dialect):
                run(statement, ())
            run("INSERT INTO schema_version VALUES (?)", (step + 1,))
    reopened = make_store()
    with reopened.transaction() as run:
        assert run("SELECT max(version) FROM schema_version", ()).fetchone()[0] == SCHEMA_VERSION
    reopened.transact("u", turn_of(engine, Text("hi"), now), now, update_id=1)
    assert reopened.load("u")[0].state == "onboarding.welcome"  # type: ignore[union-attr]
