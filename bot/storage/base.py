"""What both engines share: the turn in one transaction, effects, export, erase, rekey.

Exceptions: StorageError (the database cannot be opened, migrated, read or written)
  > ConflictError (the session's version moved on under the turn: retry it)
  > KeyRefused (REPAIR_COACH_ENCRYPTION_KEY does not fit the stored data)
  > AlreadyApplied (this update id was applied before: nothing runs; not a failure)
"""

from __future__ import annotations

import json
import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from bot.storage.crypto import Sealer, SealError, UserSealer
from bot.storage.outreach import OUTBOX_ROW, OutreachStore
from bot.storage.schema import SCHEMA_VERSION, SEALED, USER_TABLES, ddl
from dialogue.daily import FOLLOW_UP
from dialogue.daily import stamp as utc_stamp
from dialogue.engine import Turn
from dialogue.replies import Effect
from dialogue.session import Session, SessionError

log = logging.getLogger(__name__)
EXPORT_SCHEMA = 1
CANARY = "repair-coach"  # sealed in `meta` with the key, opened at start-up
BACKLOG_CAP = 30  # stored, unapplied updates one chat may have; more get a "slow down" note
PROCESSED_KEPT = timedelta(days=2)  # at least a day, well under a week
OUTBOX_KEPT = timedelta(days=1)
JOURNAL_PAGE = 5
FORGET = "DELETE FROM outbox WHERE user_id = ? AND update_id = ? AND seq = ?"  # a sent message
EXPIRED = "DELETE FROM outbox WHERE user_id = ? AND sending = 0 AND expires <= ?"  # too late
JOURNAL = (  # every journal entry of a user as (kind, id, at, data); three user id parameters
    "SELECT 'plan' AS kind, id, created_at AS at, data FROM plans WHERE user_id = ?"
    " UNION ALL SELECT 'outcome', plan_id || '@' || at, at, data FROM outcomes WHERE user_id = ?"
    " UNION ALL SELECT 'reflection', id, at, data FROM reflections WHERE user_id = ?"
)
EXPORTED = {  # table -> columns, in the order the export shows them
    "plans": ("id", "created_at", "data"),
    "outcomes": ("plan_id", "at", "data"),
    "reflections": ("id", "at", "data"),
    "schedule": ("kind", "due_at", "ref"),
}


class StorageError(RuntimeError):
    """The database cannot be opened, migrated, read or written."""


class ConflictError(StorageError):
    """The stored session's version moved on since it was loaded."""


class KeyRefused(StorageError):
    """The configured encryption keys do not fit the stored data."""


class AlreadyApplied(StorageError):  # a condition, not a failure
    """This update id was applied before: its turn is not run again."""


class Cursor(Protocol):
    """The little of a DB-API cursor the store uses."""

    rowcount: int

    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...


Run = Callable[[str, tuple[Any, ...]], Cursor]  # SQL with "?" placeholders, and parameters


class SQLStore(OutreachStore, ABC):
    """The store's logic in SQL both SQLite and PostgreSQL speak."""

    dialect = ""
    shared = False  # whether several processes use the database (then chat holds are remote)

    def __init__(self, sealer: Sealer | None = None) -> None:
        self.sealer = sealer or Sealer()
        self._holds: set[int] = set()  # chats this process applies now (one process: SQLite)
        self._holds_lock = threading.Lock()

    # -- what each engine provides --------------------------------------------------------------

    @abstractmethod
    def transaction(self) -> AbstractContextManager[Run]:
        """A write transaction; yields a function that runs one statement."""

    @abstractmethod
    def lock_user(self, run: Run, user_id: str) -> None:
        """Hold the user's row until the transaction ends (so workers apply turns one by one)."""

    @abstractmethod
    def close(self) -> None:
        """Release the connection."""

    # -- schema ---------------------------------------------------------------------------------

    def migrate(self) -> int:
        """Bring the schema to the newest version from whatever version it is at; return it."""
        with self.transaction() as run:
            self.lock_schema(run)  # before any DDL: workers starting together wait here
            run("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)", ())
            current = run("SELECT max(version) FROM schema_version", ()).fetchone()[0] or 0
            if current > SCHEMA_VERSION:
                raise StorageError(f"database schema {current} is newer than this code's")
            for step in range(current, SCHEMA_VERSION):
                for statement in ddl(step, self.dialect):
                    run(statement, ())
                run("INSERT INTO schema_version VALUES (?)", (step + 1,))
        return SCHEMA_VERSION

    def check_key(self) -> None:
        """Refuse to run with keys that cannot open the stored data, or without keys on
        encrypted data, or with keys on data stored unencrypted (until `rekey`)."""
        with self.transaction() as run:
            row = run("SELECT value FROM meta WHERE name = 'canary'", ()).fetchone()
            if row is None:
                run("INSERT INTO meta VALUES ('canary', ?) ON CONFLICT DO NOTHING",
                    (self.sealer.seal(CANARY),))  # fmt: skip
                return
        if self.sealer.active and not self.sealer.is_sealed(row[0]):
            raise KeyRefused("the database holds unencrypted data: run `repair-coach rekey` once")
        try:
            self.sealer.open(row[0])
        except SealError as err:
            raise KeyRefused(str(err)) from err

    def claim_runner(self) -> None:
        """Be the one `run` process on this database where only one can be (SQLite)."""

    def lock_schema(self, run: Run) -> None:
        """Keep two processes from migrating at once (SQLite's write lock already does)."""

    # -- the turn -------------------------------------------------------------------------------

    def load(self, user_id: str) -> tuple[Session | None, int]:
        """The user's session and its version (None, 0 for someone new)."""
        with self.transaction() as run:
            return self._load(run, user_id)

    def _load(self, run: Run, user_id: str) -> tuple[Session | None, int]:
        row = run("SELECT data, version FROM sessions WHERE user_id = ?", (user_id,)).fetchone()
        if row is None:
            return None, 0
        try:
            return Session.from_json(self._user(run, user_id).open(row[0])), row[1]
        except (SessionError, SealError) as err:
            raise StorageError(f"stored session of one user is unreadable: {err}") from err

    def transact(
        self,
        user_id: str,
        step: Callable[[Session | None], Turn],
        now: datetime | None = None,
        update_id: int | None = None,
        outbox: Callable[[Turn], list[dict[str, Any]]] | None = None,
    ) -> Turn:
        """Load, run one turn, write it and its effects, mark the update done: all or nothing.

        An update id marked before raises AlreadyApplied and nothing runs.
        """
        now = now or datetime.now(UTC)
        with self.transaction() as run:
            if update_id is not None:
                cur = run(
                    "INSERT INTO processed_updates VALUES (?, ?) ON CONFLICT DO NOTHING",
                    (update_id, now.isoformat()),
                )
                if cur.rowcount != 1:
                    raise AlreadyApplied(str(update_id))
                run("DELETE FROM inbox WHERE update_id = ?", (update_id,))  # applied: settled
            self.lock_user(run, user_id)
            session, version = self._load(run, user_id)
            turn = step(session)
            if not turn.stale:
                sealer = self._write(run, user_id, turn, version, now)
                if outbox is not None and update_id is not None and sealer is not None:
                    stamp = now.isoformat()
                    for seq, message in enumerate(outbox(turn)):  # a reply: no expiry
                        row = (user_id, update_id, seq, stamp, seal_json(sealer, message), None)
                        run(OUTBOX_ROW, row)
        if any(e.kind == "erase_all" for e in turn.effects):
            self.scrub()
        return turn

    def scrub(self) -> None:
        """Make deleted or rewritten data unrecoverable from the files (SQLite: the WAL)."""

    def _write(  # noqa: PLR0917 - the turn and where it comes from
        self, run: Run, user_id: str, turn: Turn, version: int, now: datetime, reach: bool = True
    ) -> UserSealer | None:
        """Store the turn's session and effects; return the user's sealer (None: erased).
        `reach`: the user wrote (so they are reachable again); a reminder's turn does not."""
        stamp = now.isoformat()
        if any(e.kind == "erase_all" for e in turn.effects):
            run("DELETE FROM users WHERE user_id = ?", (user_id,))
            return None  # nothing of the user is written again: the next turn starts afresh
        if reach:  # a user who writes again is reachable again, reminders too
            back = run(
                "INSERT INTO users (user_id, created_at) VALUES (?, ?) ON CONFLICT (user_id)"
                " DO UPDATE SET active = 1 WHERE users.active = 0",
                (user_id, stamp),
            )
            if back.rowcount == 1:
                self.unpark(run, user_id, now)
        sealer = self._user(run, user_id, create=now)
        data = sealer.seal(turn.session.to_json())
        if version == 0:
            cur = run(
                "INSERT INTO sessions VALUES (?, 1, ?, ?) ON CONFLICT DO NOTHING",
                (user_id, data, stamp),
            )
        else:
            cur = run(
                "UPDATE sessions SET version = version + 1, data = ?, updated_at = ?"
                " WHERE user_id = ? AND version = ?",
                (data, stamp, user_id, version),
            )
        if cur.rowcount != 1:
            raise ConflictError("the session was changed by another writer")
        for effect in turn.effects:
            self._effect(run, user_id, effect, sealer)
        return sealer

    def _effect(self, run: Run, user_id: str, effect: Effect, sealer: UserSealer) -> None:
        data: dict[str, Any] = effect.data
        if effect.kind == "save_plan":
            run(
                "INSERT INTO plans VALUES (?, ?, ?, ?) ON CONFLICT (user_id, id)"
                " DO UPDATE SET data = excluded.data",
                (user_id, data["id"], data["created"], seal_json(sealer, data)),
            )
        elif effect.kind == "follow_up":
            self.schedule(run, user_id, FOLLOW_UP, data["plan"], data["at"])
        elif effect.kind == "schedule":
            self.schedule(run, user_id, data["kind"], data["ref"], data["at"])
        elif effect.kind == "reflection":
            run("INSERT INTO reflections VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (user_id, data["id"], data["at"], seal_json(sealer, data)))  # fmt: skip
        elif effect.kind == "outcome":
            run(
                "INSERT INTO outcomes VALUES (?, ?, ?, ?) ON CONFLICT (user_id, plan_id, at)"
                " DO UPDATE SET data = excluded.data",
                (user_id, data["plan_id"], data["at"], seal_json(sealer, data)),
            )

    def _user(self, run: Run, user_id: str, create: datetime | None = None) -> UserSealer:
        """The sealer of a user's data: their own key (made at `create` if they have none)."""
        if not self.sealer.active:
            return self.sealer.user(None)
        row = run("SELECT key FROM user_keys WHERE user_id = ?", (user_id,)).fetchone()
        if row is None and create is not None:
            run("INSERT INTO users (user_id, created_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
                (user_id, create.isoformat()))  # fmt: skip
            run("INSERT INTO user_keys VALUES (?, ?) ON CONFLICT DO NOTHING",
                (user_id, self.sealer.new_user_key()))  # fmt: skip
            row = run("SELECT key FROM user_keys WHERE user_id = ?", (user_id,)).fetchone()
        try:
            return self.sealer.user(row[0] if row else None)
        except SealError as err:
            raise StorageError(f"a user's key cannot be opened: {err}") from err

    # -- users and chats ------------------------------------------------------------------------

    # -- the inbox: updates stored before they are acknowledged ----------------------------------

    def receive(  # noqa: PLR0917 - the update's parts, in Telegram's order
        self, chat_id: int, update_id: int, raw: str, now: datetime, owner: str | None = None,
        cap: int = BACKLOG_CAP,
    ) -> str:  # fmt: skip
        """Store an update before it is acknowledged: "new", "seen" (here or applied before),
        or "over" when its chat already has `cap` waiting (then it is dropped). `owner`: the
        user whose key seals it (a private chat's)."""
        with self.transaction() as run:
            if run("SELECT 1 FROM processed_updates WHERE update_id = ?", (update_id,)).fetchone():
                return "seen"
            sealer = self._user(run, owner, create=now) if owner else self.sealer
            cur = run(
                "INSERT INTO inbox (update_id, chat_id, at, attempts, owner, data)"
                " VALUES (?, ?, ?, 0, ?, ?) ON CONFLICT DO NOTHING",
                (update_id, chat_id, now.isoformat(), owner, sealer.seal(raw)),
            )
            if cur.rowcount != 1:
                return "seen"
            waiting = run("SELECT count(*) FROM inbox WHERE chat_id = ?", (chat_id,)).fetchone()[0]
            if waiting <= cap:
                return "new"
            run("DELETE FROM inbox WHERE update_id = ?", (update_id,))
            self._processed(run, update_id, now)
            return "over"

    def waiting(self, chat_id: int, limit: int = 16) -> list[tuple[int, str, int]]:
        """The chat's stored updates in update-id order: (update id, raw JSON, failed attempts)."""
        out = []
        with self.transaction() as run:
            rows = run(
                "SELECT update_id, data, attempts, owner FROM inbox WHERE chat_id = ?"
                " ORDER BY update_id LIMIT ?",
                (chat_id, limit),
            ).fetchall()
            for update_id, data, attempts, owner in rows:
                try:
                    out.append((update_id, (self._user(run, owner) if owner else self.sealer)
                                .open(data), attempts))  # fmt: skip
                except SealError:  # its user erased everything meanwhile: so is this
                    run("DELETE FROM inbox WHERE update_id = ?", (update_id,))
        return out

    def settle(self, update_id: int, now: datetime) -> None:
        """The update is done (applied, or given up): out of the inbox, its id remembered."""
        with self.transaction() as run:
            run("DELETE FROM inbox WHERE update_id = ?", (update_id,))
            self._processed(run, update_id, now)

    def failed_attempt(self, update_id: int) -> int:
        """Count a failed attempt at an update; return how many there have been."""
        with self.transaction() as run:
            run("UPDATE inbox SET attempts = attempts + 1 WHERE update_id = ?", (update_id,))
            row = run("SELECT attempts FROM inbox WHERE update_id = ?", (update_id,)).fetchone()
        return row[0] if row else 0

    def _processed(self, run: Run, update_id: int, now: datetime) -> None:
        run("INSERT INTO processed_updates VALUES (?, ?) ON CONFLICT DO NOTHING",
            (update_id, now.isoformat()))  # fmt: skip

    def with_work(self, limit: int = 500) -> tuple[list[int], list[str]]:
        """Chats with stored updates, and users with messages nobody has begun to send."""
        with self.transaction() as run:
            chats = run("SELECT DISTINCT chat_id FROM inbox LIMIT ?", (limit,)).fetchall()
            users = run(
                "SELECT DISTINCT user_id FROM outbox WHERE sending = 0 LIMIT ?", (limit,)
            ).fetchall()
        return [c[0] for c in chats], [u[0] for u in users]

    def hold_chat(self, chat_id: int) -> bool:
        """Become the one applying this chat's updates (False: someone else is)."""
        with self._holds_lock:
            if chat_id in self._holds:
                return False
            self._holds.add(chat_id)
            return True

    def release_chat(self, chat_id: int) -> None:
        """Stop applying this chat's updates."""
        with self._holds_lock:
            self._holds.discard(chat_id)

    # -- the outbox: a turn's messages, each sent by exactly one party --------------------------

    def claim_next(
        self, user_id: str, done: tuple[int, int] | None = None, now: datetime | None = None
    ) -> tuple[int, int, dict[str, Any]] | None:
        """Forget the message `done` (sent, or in doubt), drop the user's messages that expired
        unsent by `now`, then claim the user's first message that nobody has begun to send
        (None: there is none).

        A claim is one atomic UPDATE of one row: of two claimants, one gets it. Its claimant
        sends it, and it is deleted with the next claim; a claimant that dies leaves it claimed
        ("in doubt": it may have arrived) and it is never sent again. One row at a time, so a
        worker's death leaves at most one message of a chat in doubt. A reminder's message
        left unsent past its expiry (its worker died, the bot was down) is deleted, not sent:
        a reflection never arrives on the day after its own.
        """
        return self.claim(user_id, done, now)[0]

    def claim(
        self, user_id: str, done: tuple[int, int] | None = None, now: datetime | None = None,
        take: bool = True,
    ) -> tuple[tuple[int, int, dict[str, Any]] | None, bool]:  # fmt: skip
        """claim_next, and whether more unsent messages wait after the one claimed (the
        sender then spends no send budget on looking again). `take=False`: forget `done` and
        drop what expired, claim nothing."""
        with self.transaction() as run:
            if done is not None:
                run(FORGET, (user_id, *done))
            dropped = run(EXPIRED, (user_id, utc_stamp(now or datetime.now(UTC)))).rowcount
            if dropped > 0:
                log.info("%d expired reminder message(s) dropped unsent", dropped)
            row = run(
                "UPDATE outbox SET sending = 1 WHERE user_id = ? AND sending = 0"
                " AND (update_id, seq) = (SELECT update_id, seq FROM outbox WHERE user_id = ?"
                " AND sending = 0 ORDER BY update_id, seq LIMIT 1) RETURNING update_id, seq, data",
                (user_id, user_id),
            ).fetchone() if take else None  # fmt: skip
            more = run("SELECT 1 FROM outbox WHERE user_id = ? AND sending = 0 LIMIT 1",
                       (user_id,)).fetchone() is not None  # fmt: skip
            opened = json.loads(self._user(run, user_id).open(row[2])) if row else None
        return ((row[0], row[1], opened) if row else None), more

    def unclaim(
        self, user_id: str, claimed: tuple[int, int], done: tuple[int, int] | None = None
    ) -> None:
        """A claimed message did not leave (Telegram unreachable): unclaim it for a later try,
        and forget `done`, the message sent before it."""
        with self.transaction() as run:
            if done is not None:
                run(FORGET, (user_id, *done))
            run("UPDATE outbox SET sending = 0 WHERE user_id = ? AND update_id = ? AND seq = ?",
                (user_id, *claimed))  # fmt: skip

    def unsent(self, user_id: str, update_id: int) -> list[tuple[int, dict[str, Any]]]:
        """Messages of an update's turn that nobody has claimed (for tests and inspection)."""
        with self.transaction() as run:
            rows = run(
                "SELECT seq, data FROM outbox WHERE user_id = ? AND update_id = ? AND sending = 0"
                " ORDER BY seq",
                (user_id, update_id),
            ).fetchall()
            sealer = self._user(run, user_id)
        return [(seq, json.loads(sealer.open(data))) for seq, data in rows]

    def set_active(self, user_id: str, active: bool, now: datetime | None = None) -> None:
        """Mark a user as reachable or not (they blocked the bot, or came back); their
        reminders wait while they are not."""
        with self.transaction() as run:
            cur = run("UPDATE users SET active = ? WHERE user_id = ? AND active = ?",
                      (int(active), user_id, int(not active)))  # fmt: skip
            if cur.rowcount == 1:
                if active:
                    self.unpark(run, user_id, now or datetime.now(UTC))
                else:
                    self.park(run, user_id)

    def is_active(self, user_id: str) -> bool:
        """Whether the user can be messaged (unknown users count as active)."""
        with self.transaction() as run:
            row = run("SELECT active FROM users WHERE user_id = ?", (user_id,)).fetchone()
        return row is None or bool(row[0])

    def first_notice(self, chat_id: int) -> bool:
        """True once per group chat: the first time the coach says it works only in private."""
        with self.transaction() as run:
            return (
                run(
                    "INSERT INTO group_notices VALUES (?) ON CONFLICT DO NOTHING", (chat_id,)
                ).rowcount
                == 1
            )

    def prune(self, now: datetime) -> dict[str, int]:
        """Forget what is kept only for redelivery, once Telegram can no longer redeliver it.

        Update ids are kept PROCESSED_KEPT (Telegram redelivers for a day; it may reuse ids
        after a week of silence, so they must be gone by then); messages still in the outbox
        after OUTBOX_KEPT were in doubt or for a user who never came back; a reminder's
        message past its expiry is too late to send.
        """
        with self.transaction() as run:
            done = run("DELETE FROM processed_updates WHERE at < ?",
                       ((now - PROCESSED_KEPT).isoformat(),)).rowcount  # fmt: skip
            old = run("DELETE FROM outbox WHERE at < ? OR (sending = 0 AND expires <= ?)",
                      ((now - OUTBOX_KEPT).isoformat(), utc_stamp(now))).rowcount  # fmt: skip
            stuck = run("DELETE FROM inbox WHERE at < ?",
                        ((now - PROCESSED_KEPT).isoformat(),)).rowcount  # fmt: skip
            return {"processed_updates": done, "outbox": old, "inbox": stuck}

    # -- the user's data ------------------------------------------------------------------------

    def fetch(self, user_id: str, query: tuple[Any, ...]) -> dict[str, Any]:
        """What the engine asked for (Engine.wants): a journal page, an entry, or the history."""
        kind = query[0]
        if kind == "journal":
            return {"journal": self.journal_page(user_id, int(query[1]))}
        if kind == "entry":
            return {"entry": self.entry(user_id, str(query[1]), str(query[2]))}
        if kind == "progress":
            return {"progress": self.history(user_id)}
        raise StorageError(f"unknown query {kind!r}")

    def journal_page(self, user_id: str, page: int, size: int = JOURNAL_PAGE) -> dict[str, Any]:
        """Plans, outcomes and reflections, newest first: one page, and whether more follow."""
        with self.transaction() as run:
            rows = run(
                f"SELECT * FROM ({JOURNAL}) AS j ORDER BY at DESC, id DESC LIMIT ? OFFSET ?",
                (user_id, user_id, user_id, size + 1, max(0, page) * size),
            ).fetchall()
            sealer = self._user(run, user_id)
        entries = [_entry(sealer, r) for r in rows[:size]]
        return {"page": page, "entries": entries, "more": len(rows) > size}

    def entry(self, user_id: str, kind: str, entry_id: str) -> dict[str, Any] | None:
        """One journal entry, whole (None when it is gone)."""
        with self.transaction() as run:
            row = run(
                f"SELECT * FROM ({JOURNAL}) AS j WHERE kind = ? AND id = ?",
                (user_id, user_id, user_id, kind, entry_id),
            ).fetchone()
            sealer = self._user(run, user_id)
        return _entry(sealer, row) if row else None

    def history(self, user_id: str) -> dict[str, Any]:
        """When each rupture was logged and how each follow-up went (for /progress)."""
        with self.transaction() as run:
            plans = run("SELECT id, created_at FROM plans WHERE user_id = ?", (user_id,)).fetchall()
            outcomes = run(
                "SELECT plan_id, at, data FROM outcomes WHERE user_id = ?", (user_id,)
            ).fetchall()
            sealer = self._user(run, user_id)
        return {
            "plans": [{"id": p[0], "created": p[1]} for p in plans],
            "outcomes": [
                {"plan_id": o[0], "at": o[1],
                 "outcome": json.loads(sealer.open(o[2])).get("outcome", "")}
                for o in outcomes
            ],
        }  # fmt: skip

    def plans(self, user_id: str) -> list[dict[str, Any]]:
        """The user's plans, newest first."""
        with self.transaction() as run:
            rows = run(
                "SELECT data FROM plans WHERE user_id = ? ORDER BY created_at DESC, id DESC",
                (user_id,),
            ).fetchall()
            sealer = self._user(run, user_id)
        return [json.loads(sealer.open(r[0])) for r in rows]

    def export(self, user_id: str, now: datetime | None = None) -> dict[str, Any]:
        """Everything stored about a user, opened and readable, as one JSON-ready document."""
        now = now or datetime.now(UTC)
        with self.transaction() as run:
            user = run(
                "SELECT created_at, active FROM users WHERE user_id = ?", (user_id,)
            ).fetchone()
            session, version = self._load(run, user_id)
            tables = {
                table: [dict(zip(columns, row, strict=True)) for row in run(
                    f"SELECT {', '.join(columns)} FROM {table} WHERE user_id = ?"
                    f" ORDER BY {columns[1]}", (user_id,)).fetchall()]
                for table, columns in EXPORTED.items()
            }  # fmt: skip
            sealer = self._user(run, user_id)
        for rows in tables.values():
            for row in rows:
                if "data" in row:
                    row["data"] = json.loads(sealer.open(row["data"]))
        return {
            "schema": EXPORT_SCHEMA,
            "exported_at": now.isoformat(timespec="seconds"),
            "user": {"id": user_id, "created_at": user[0], "active": bool(user[1])}
            if user
            else None,
            "session": json.loads(session.to_json()) if session else None,
            "session_version": version,
            **tables,
        }

    def rekey(self, batch: int = 200) -> int:
        """Re-seal every sealed value with the newest key; return how many changed.

        Safe beside live workers: rows are read by primary key in short batches, and each is
        replaced only if it still holds the value read (compare and swap): a row a worker wrote
        meanwhile is already sealed with the newest key and is left alone.
        """
        changed = 0
        for table, (column, key) in SEALED.items():  # names are constants of the schema
            cols, after = ", ".join(key), None
            where = " AND ".join(f"{k} = ?" for k in key)
            update = f"UPDATE {table} SET {column} = ? WHERE {where} AND {column} = ?"
            while True:
                page = f"({cols}) > ({', '.join('?' * len(key))})" if after else "1 = 1"
                select = (
                    f"SELECT {cols}, {column} FROM {table} WHERE {page} ORDER BY {cols} LIMIT ?"
                )
                with self.transaction() as run:
                    rows = run(select, (*(after or ()), batch)).fetchall()
                if not rows:
                    break
                after = tuple(rows[-1][: len(key)])
                resealed = [(self.sealer.reseal(old), *ids, old) for *ids, old in rows]
                with self.transaction() as run:  # short: the values are ready
                    for params in resealed:
                        if params[0] != params[-1]:
                            changed += run(update, params).rowcount
        self.scrub()
        return changed

    def user_rows(self, user_id: str) -> dict[str, int]:
        """How many rows each table holds for a user (for tests of erasure)."""
        with self.transaction() as run:
            count = "SELECT count(*) FROM {} WHERE user_id = ?"  # table names: constants only
            out = {t: run(count.format(t), (user_id,)).fetchone()[0]
                   for t in (*USER_TABLES, "users")}  # fmt: skip
        return out


def seal_json(sealer: UserSealer, data: dict[str, Any]) -> str:
    return sealer.seal(json.dumps(data, ensure_ascii=False))


def _entry(sealer: UserSealer, row: tuple[Any, ...]) -> dict[str, Any]:
    kind, entry_id, at, data = row
    return {"kind": kind, "id": entry_id, "at": at, "data": json.loads(sealer.open(data))}
