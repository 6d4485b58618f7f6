"""SQLite storage with the standard sqlite3 module: one transaction per turn.

Exceptions: StorageError (the database cannot be used) > ConflictError (the session changed
under us: another writer won; retry the turn).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dialogue.engine import Effect, Turn
from dialogue.session import Session, SessionError


class StorageError(RuntimeError):
    """The database cannot be opened, migrated or written."""


class ConflictError(StorageError):
    """The stored session's version moved on since it was loaded."""


class AlreadyApplied(StorageError):
    """This update id was applied before: its turn is not run again."""


# Each migration is a list of statements; the list's index + 1 is the schema version it makes.
MIGRATIONS: list[list[str]] = [
    [
        """CREATE TABLE users (
            user_id TEXT PRIMARY KEY,
            created_at TEXT NOT NULL,
            active INTEGER NOT NULL DEFAULT 1)""",
        """CREATE TABLE sessions (
            user_id TEXT PRIMARY KEY REFERENCES users(user_id) ON DELETE CASCADE,
            version INTEGER NOT NULL,
            data TEXT NOT NULL,
            updated_at TEXT NOT NULL)""",
        """CREATE TABLE plans (
            id TEXT NOT NULL,
            user_id TEXT NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
            created_at TEXT NOT NULL,
            data TEXT NOT NULL,
            PRIMARY KEY (user_id, id))""",
        """CREATE TABLE schedule (
            user_id TEXT NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
            kind TEXT NOT NULL,
            ref TEXT NOT NULL,
            due_at TEXT NOT NULL,
            PRIMARY KEY (user_id, kind, ref))""",
        "CREATE INDEX schedule_due ON schedule(due_at)",
    ],
    [
        # Telegram update ids already applied: a redelivered update changes nothing. No user
        # id here, so erasing a user leaves nothing of theirs, and redelivery stays harmless.
        "CREATE TABLE processed_updates (update_id INTEGER PRIMARY KEY, at TEXT NOT NULL)",
        "CREATE TABLE group_notices (chat_id INTEGER PRIMARY KEY)",
    ],
]


class SQLiteStore:
    """One SQLite file (or ":memory:"): WAL, foreign keys, secure_delete."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        try:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON",
                           "secure_delete=ON", "busy_timeout=5000"):  # fmt: skip
                self.db.execute(f"PRAGMA {pragma}")
            self._lock = threading.Lock()
            self.migrate()
        except (sqlite3.Error, OSError) as err:
            raise StorageError(f"cannot open the database at {self.path}: {err}") from err

    def migrate(self) -> int:
        """Bring the schema to the newest version; return it."""
        with self._lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                self.db.execute(
                    "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"
                )
                row = self.db.execute("SELECT max(version) FROM schema_version").fetchone()
                current = row[0] or 0
                for version, statements in enumerate(MIGRATIONS[current:], start=current + 1):
                    for statement in statements:
                        self.db.execute(statement)
                    self.db.execute("INSERT INTO schema_version VALUES (?)", (version,))
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
        return len(MIGRATIONS)

    def load(self, user_id: str) -> tuple[Session | None, int]:
        """The user's session and its version (None, 0 for someone new)."""
        row = self.db.execute(
            "SELECT data, version FROM sessions WHERE user_id = ?", (user_id,)
        ).fetchone()
        if row is None:
            return None, 0
        try:
            return Session.from_json(row[0]), row[1]
        except SessionError as err:
            raise StorageError(f"stored session of one user is unreadable: {err}") from err

    def transact(
        self,
        user_id: str,
        step: Callable[[Session | None], Turn],
        now: datetime | None = None,
        update_id: int | None = None,
    ) -> Turn:
        """Load, run one turn and write it and its effects, all in one transaction.

        With an update id, the id is marked done in the same transaction; an id marked
        before raises AlreadyApplied and nothing runs.
        """
        now = now or datetime.now(UTC)
        with self._lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                if update_id is not None:
                    cur = self.db.execute(
                        "INSERT INTO processed_updates VALUES (?, ?) ON CONFLICT DO NOTHING",
                        (update_id, now.isoformat()),
                    )
                    if cur.rowcount != 1:
                        raise AlreadyApplied(str(update_id))
                session, version = self.load(user_id)
                turn = step(session)
                if not turn.stale:
                    self._write(user_id, turn, version, now)
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            if any(e.kind == "erase_all" for e in turn.effects):
                # Erased pages must not linger in the write-ahead log either.
                self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            return turn

    def _write(self, user_id: str, turn: Turn, version: int, now: datetime) -> None:
        stamp = now.isoformat()
        if any(e.kind == "erase_all" for e in turn.effects):
            self.db.execute("DELETE FROM users WHERE user_id = ?", (user_id,))
            return  # nothing of the user is written again: the next turn starts afresh
        self.db.execute(  # a user who writes again is reachable again
            "INSERT INTO users (user_id, created_at) VALUES (?, ?)"
            " ON CONFLICT (user_id) DO UPDATE SET active = 1 WHERE active = 0",
            (user_id, stamp),
        )
        if version == 0:
            cur = self.db.execute(
                "INSERT INTO sessions VALUES (?, 1, ?, ?) ON CONFLICT DO NOTHING",
                (user_id, turn.session.to_json(), stamp),
            )
        else:
            cur = self.db.execute(
                "UPDATE sessions SET version = version + 1, data = ?, updated_at = ?"
                " WHERE user_id = ? AND version = ?",
                (turn.session.to_json(), stamp, user_id, version),
            )
        if cur.rowcount != 1:
            raise ConflictError("the session was changed by another writer")
        for effect in turn.effects:
            self._effect(user_id, effect)

    def _effect(self, user_id: str, effect: Effect) -> None:
        data: dict[str, Any] = effect.data
        if effect.kind == "save_plan":
            self.db.execute(
                "INSERT OR REPLACE INTO plans VALUES (?, ?, ?, ?)",
                (data["id"], user_id, data["created"], json.dumps(data, ensure_ascii=False)),
            )
        elif effect.kind == "follow_up":
            self.db.execute(
                "INSERT OR REPLACE INTO schedule VALUES (?, 'follow_up', ?, ?)",
                (user_id, data["plan"], data["at"]),
            )

    def set_active(self, user_id: str, active: bool) -> None:
        """Mark a user as reachable or not (they blocked the bot, or came back)."""
        with self._lock:
            self.db.execute("UPDATE users SET active = ? WHERE user_id = ?", (int(active), user_id))

    def is_active(self, user_id: str) -> bool:
        """Whether the user can be messaged (unknown users count as active)."""
        row = self.db.execute("SELECT active FROM users WHERE user_id = ?", (user_id,)).fetchone()
        return row is None or bool(row[0])

    def first_notice(self, chat_id: int) -> bool:
        """True once per group chat: the first time the coach says it works only in private."""
        with self._lock:
            cur = self.db.execute(
                "INSERT INTO group_notices VALUES (?) ON CONFLICT DO NOTHING", (chat_id,)
            )
        return cur.rowcount == 1

    def forget_updates_before(self, moment: datetime) -> int:
        """Drop processed update ids older than a moment (Telegram redelivers for a day)."""
        with self._lock:
            cur = self.db.execute(
                "DELETE FROM processed_updates WHERE at < ?", (moment.isoformat(),)
            )
        return cur.rowcount

    def plans(self, user_id: str) -> list[dict[str, Any]]:
        """The user's plans, newest first."""
        rows = self.db.execute(
            "SELECT data FROM plans WHERE user_id = ? ORDER BY created_at DESC, rowid DESC",
            (user_id,),
        )
        return [json.loads(r[0]) for r in rows]

    def close(self) -> None:
        """Close the connection (checkpointing the WAL)."""
        self.db.close()
