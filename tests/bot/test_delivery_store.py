"""The store's side of delivery, on both engines: the inbox, chat holds, claims, pruning,
keys and their canary, rekey beside live writers, and workers starting together."""

from __future__ import annotations

import contextlib
import os
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pg import temporary_schema

from bot.storage import KeyRefused, Sealer, SQLiteStore, StorageError, Store, open_store
from bot.storage.base import BACKLOG_CAP
from bot.storage.crypto import SealError, new_key

MakeStore = Callable[..., Store]
NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)
PG_URL = os.environ.get("REPAIR_COACH_TEST_POSTGRES_URL", "")

OUTBOX = "INSERT INTO outbox (user_id, update_id, seq, at, sending, data) VALUES "


def claim_all(store: Store, user: str) -> list[tuple[int, int, dict[str, object]]]:
    """Every message of the user nobody has claimed, claimed one by one."""
    out = []
    while claimed := store.claim_next(user):
        out.append(claimed)
    return out


def test_an_update_is_stored_once_and_read_back_in_order(make_store: MakeStore) -> None:
    store = make_store(Sealer([new_key()]))
    for update_id in (12, 10, 11):
        assert store.receive(7, update_id, f'{{"n": {update_id}}}', NOW) == "new"
    assert store.receive(7, 10, "{}", NOW) == "seen"  # redelivered while waiting
    assert [u for u, _, _ in store.waiting(7)] == [10, 11, 12]
    assert store.waiting(7)[0][1] == '{"n": 10}'  # sealed at rest, opened for the holder
    store.settle(10, NOW)
    assert store.receive(7, 10, "{}", NOW) == "seen"  # redelivered after it was applied
    assert [u for u, _, _ in store.waiting(7)] == [11, 12]
    assert store.failed_attempt(11) == 1 and store.failed_attempt(11) == 2
    assert store.with_work() == ([7], [])


def test_a_flooding_chat_is_capped(make_store: MakeStore) -> None:
    store = make_store()
    got = [store.receive(9, n, "{}", NOW) for n in range(BACKLOG_CAP + 3)]
    assert got[:BACKLOG_CAP] == ["new"] * BACKLOG_CAP
    assert got[BACKLOG_CAP:] == ["over", "over", "over"]  # dropped, their ids remembered
    assert store.receive(9, BACKLOG_CAP, "{}", NOW) == "seen"
    assert store.receive(10, 1000, "{}", NOW) == "new"  # another chat is not affected


def test_ids_are_pruned_after_two_days_so_a_reused_id_is_applied(make_store: MakeStore) -> None:
    store = make_store()
    store.receive(7, 500, "{}", NOW)
    store.settle(500, NOW)
    assert store.prune(NOW + timedelta(hours=30))["processed_updates"] == 0  # kept over a day
    assert store.receive(7, 500, "{}", NOW + timedelta(hours=30)) == "seen"
    assert store.prune(NOW + timedelta(days=8))["processed_updates"] == 1  # gone within a week
    assert store.receive(7, 500, "{}", NOW + timedelta(days=8)) == "new"  # Telegram reused it


def test_a_chat_has_one_holder(make_store: MakeStore) -> None:
    one, two = make_store(), make_store()
    assert one.hold_chat(5)
    assert not one.hold_chat(5)  # not even twice in one process
    if not isinstance(one, SQLiteStore):
        assert not two.hold_chat(5)  # nor by another worker
    one.release_chat(5)
    assert two.hold_chat(5)
    two.release_chat(5)


def test_two_claimants_never_get_the_same_message(make_store: MakeStore) -> None:
    stores = [make_store(), make_store()]
    with stores[0].transaction() as run:
        run("INSERT INTO users (user_id, created_at) VALUES ('u', 'x')", ())
        for update_id in range(40):
            for seq in range(3):
                run(OUTBOX + "('u', ?, ?, ?, 0, '{}')",
                    (update_id, seq, NOW.isoformat()))  # fmt: skip
    got: list[list[tuple[int, int]]] = [[], []]

    def claim(n: int) -> None:
        for _ in range(20):
            while claimed := stores[n].claim_next("u"):
                got[n].append(claimed[:2])

    threads = [threading.Thread(target=claim, args=(n,)) for n in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got[0] + got[1]) == [(u, s) for u in range(40) for s in range(3)]


def test_keys_that_do_not_fit_are_refused(make_store: MakeStore) -> None:
    key, other = new_key(), new_key()
    make_store(Sealer([key])).check_key()  # the first start writes the canary
    make_store(Sealer([key])).check_key()
    make_store(Sealer([other, key])).check_key()  # rotation: the old key still opens it
    with pytest.raises(KeyRefused):
        make_store(Sealer([other])).check_key()  # well formed, but not this database's
    with pytest.raises(KeyRefused):
        make_store().check_key()  # encrypted data, no key
    with pytest.raises(SealError) as bad:
        Sealer(["not-a-key-" + key[:20]])
    assert key[:20] not in str(bad.value)  # the message names the key's place, never the key


def test_plain_data_is_refused_with_a_key_until_rekey(make_store: MakeStore) -> None:
    make_store().check_key()
    key = new_key()
    with pytest.raises(KeyRefused):
        make_store(Sealer([key])).check_key()
    make_store(Sealer([key])).rekey()
    make_store(Sealer([key])).check_key()


def test_rekey_reseals_each_row_by_its_key_and_spares_newer_writes(
    make_store: MakeStore,
) -> None:
    old, new = new_key(), new_key()
    store = make_store(Sealer([old]))
    with store.transaction() as run:
        run("INSERT INTO users (user_id, created_at) VALUES ('u', 'x')", ())
        for seq in range(3):  # several messages of one update
            run(OUTBOX + "('u', 1, ?, 'x', 0, ?)",
                (seq, store.sealer.seal(f'{{"html": "m{seq}"}}')))  # fmt: skip
    rotated = make_store(Sealer([new, old]))
    real_reseal = rotated.sealer.reseal
    writer = make_store(Sealer([new, old]))

    def reseal_while_a_worker_writes(stored: str) -> str:
        if rotated.sealer.open(stored) == '{"html": "m1"}':  # a live worker changes this row
            with writer.transaction() as run:
                run("UPDATE outbox SET data = ? WHERE seq = 1",
                    (writer.sealer.seal('{"html": "NEWER"}'),))  # fmt: skip
        return real_reseal(stored)

    rotated.sealer.reseal = reseal_while_a_worker_writes  # type: ignore[method-assign]
    rotated.rekey()
    only_new = make_store(Sealer([new]))
    assert [m["html"] for _, _, m in claim_all(only_new, "u")] == ["m0", "NEWER", "m2"]


@pytest.mark.skipif(not PG_URL, reason="REPAIR_COACH_TEST_POSTGRES_URL is not set")
def test_eight_workers_start_together_on_an_empty_database() -> None:
    with temporary_schema(PG_URL, "m") as url:
        errors: list[BaseException] = []
        barrier = threading.Barrier(8)

        def start() -> None:
            barrier.wait()
            try:
                open_store(Path("unused.db"), url).close()
            except BaseException as err:
                errors.append(err)

        threads = [threading.Thread(target=start) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []


@pytest.mark.skipif(not PG_URL, reason="REPAIR_COACH_TEST_POSTGRES_URL is not set")
def test_a_terminated_backend_is_replaced() -> None:
    import psycopg  # noqa: PLC0415

    from bot.storage.postgres import PostgresStore  # noqa: PLC0415

    name = f"kill-{uuid.uuid4().hex[:8]}"
    with temporary_schema(PG_URL, "k") as url:
        store = PostgresStore(url, name=name)
        try:
            assert store.hold_chat(1)
            with psycopg.connect(PG_URL, autocommit=True) as admin:  # a restart, as it looks
                killed = admin.execute(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE application_name = %s",
                    (name,),
                ).fetchone()
            assert killed and killed[0] >= 2  # the pool's and the chat holder's
            for _ in range(3):  # the pool checks connections and replaces broken ones
                with contextlib.suppress(StorageError):
                    store.receive(3, 1, "{}", NOW)
                    break
            assert [u for u, _, _ in store.waiting(3)] == [1]
            assert store.hold_chat(2)  # the lost holder connection is replaced too
        finally:
            store.close()


@pytest.mark.skipif(not PG_URL, reason="REPAIR_COACH_TEST_POSTGRES_URL is not set")
def test_erasure_on_postgresql_leaves_no_key_to_the_leftovers() -> None:
    """The user's words never reach the table files in clear; after /delete, the one key that
    opens what is left of them (old row versions) is gone from the files too."""
    import psycopg  # noqa: PLC0415

    from dialogue.content import Content  # noqa: PLC0415
    from dialogue.engine import Engine  # noqa: PLC0415
    from dialogue.events import Command, Press, Text  # noqa: PLC0415

    engine, marker = Engine(Content()), "MARKER-pg-erasure-5c1e"

    def files(conn: psycopg.Connection, tables: tuple[str, ...]) -> bytes:
        conn.execute("CHECKPOINT")  # what is in shared buffers reaches the files
        root = conn.execute("SELECT current_setting('data_directory')").fetchone()[0]
        out = b""
        for table in tables:
            rel = conn.execute("SELECT pg_relation_filepath(%s)", (table,)).fetchone()[0]
            base = Path(root) / rel
            out += b"".join(p.read_bytes() for p in base.parent.glob(f"{base.name}*"))
        return out

    with temporary_schema(PG_URL, "e") as url, psycopg.connect(url, autocommit=True) as conn:
        store = open_store(Path("unused.db"), url, Sealer([new_key()]))
        try:
            session = None
            for event in (Text("hi"), Press("next"), Press("partner"), Text(marker)):
                session = store.transact(
                    "u", lambda s, e=event: engine.handle(s or engine.new_session("u"), e, NOW),
                    NOW,
                ).session  # fmt: skip
            assert session is not None
            wrapped = conn.execute("SELECT key FROM user_keys WHERE user_id = 'u'").fetchone()[0]
            tables = ("sessions", "user_keys", "users")
            assert marker.encode() not in files(conn, tables)  # sealed before it is stored
            assert wrapped.encode() in files(conn, ("user_keys",))
            for event in (Command("delete"), Press("erase")):
                store.transact(
                    "u", lambda s, e=event: engine.handle(s or engine.new_session("u"), e, NOW),
                    NOW,
                )  # fmt: skip
            assert set(store.user_rows("u").values()) == {0}
            assert wrapped.encode() not in files(conn, ("user_keys",))
        finally:
            store.close()


def test_rekey_beside_live_turns_loses_nothing_and_leaves_nothing_old(
    make_store: MakeStore,
) -> None:
    """Workers run with `new,old` while `rekey` runs: afterwards `new` alone opens everything,
    and no turn written meanwhile is undone."""
    from dialogue.content import Content  # noqa: PLC0415
    from dialogue.engine import Engine  # noqa: PLC0415
    from dialogue.events import Text  # noqa: PLC0415

    engine, old, new = Engine(Content()), new_key(), new_key()
    seed = make_store(Sealer([old]))
    users = [f"u{n}" for n in range(6)]

    def turn(store: Store, user: str, n: int) -> None:
        store.transact(
            user, lambda s: engine.handle(s or engine.new_session(user), Text(f"hi {n}"), NOW),
            NOW, update_id=hash((user, n)) % 10**9,
            outbox=lambda t: [{"html": f"{user} message {n}.{k}"} for k in range(3)],
        )  # fmt: skip

    made = dict.fromkeys(users, 1)
    for user in users:
        turn(seed, user, 0)
    writers = [make_store(Sealer([new, old])) for _ in range(2)]
    rekeyer = make_store(Sealer([new, old]))
    stop = threading.Event()
    errors: list[BaseException] = []

    def write(store: Store, half: list[str]) -> None:
        n = 1
        while not stop.is_set() and n < 40:
            for user in half:
                try:
                    turn(store, user, n)
                    made[user] += 1
                except StorageError as err:  # a busy SQLite file: that turn is simply not made
                    if isinstance(store, SQLiteStore):
                        continue
                    errors.append(err)
            n += 1

    threads = [threading.Thread(target=write, args=(w, users[i::2])) for i, w in enumerate(writers)]
    for t in threads:
        t.start()
    for _ in range(3):
        rekeyer.rekey(batch=4)
    stop.set()
    for t in threads:
        t.join()
    rekeyer.rekey(batch=4)
    assert errors == []
    only_new = make_store(Sealer([new]))
    only_new.check_key()
    for user in users:
        session, version = only_new.load(user)
        assert session is not None and version == made[user]  # no turn undone by the rekey
        claimed = claim_all(only_new, user)
        assert all(m["html"].startswith(f"{user} message") for _, _, m in claimed)
        assert len({m["html"] for _, _, m in claimed}) == len(claimed)  # each row its own text
