"""SQLite with the standard sqlite3 module (measured the cheapest turn): WAL, foreign keys,
secure_delete; one write transaction at a time, so no per-user lock is needed."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bot.storage.base import Run, SQLStore, StorageError
from bot.storage.crypto import Sealer

PRAGMAS = ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "secure_delete=ON",
           "busy_timeout=5000")  # fmt: skip


class SQLiteStore(SQLStore):
    """One SQLite file (or ":memory:")."""

    dialect = "sqlite"

    def __init__(self, path: str | Path, sealer: Sealer | None = None) -> None:
        super().__init__(sealer)
        self.path = str(path)
        self._lock = threading.RLock()
        self._runner: int | None = None
        try:
            if self.path != ":memory:":
                private_file(Path(self.path))
            self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            for pragma in PRAGMAS:
                self.db.execute(f"PRAGMA {pragma}")
        except (sqlite3.Error, OSError) as err:
            raise StorageError(f"cannot open the database at {self.path}: {err}") from err
        try:
            self.migrate()
        except BaseException:
            self.db.close()
            raise

    @contextmanager
    def transaction(self) -> Iterator[Run]:
        """BEGIN IMMEDIATE: the write lock from the first statement, so turns never interleave."""
        with self._lock:
            if self.db.in_transaction:  # a read inside the turn's own transaction
                yield self._run
                return
            try:
                self.db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as err:
                raise StorageError(f"database is unavailable: {err}") from err
            try:
                yield self._run
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            try:
                self.db.execute("COMMIT")
            except sqlite3.Error as err:
                raise StorageError(f"commit failed: {err}") from err

    def _run(self, sql: str, params: tuple[Any, ...]) -> sqlite3.Cursor:
        try:
            return self.db.execute(sql, params)
        except sqlite3.Error as err:
            raise StorageError(f"{type(err).__name__}: {err}") from err

    def lock_user(self, run: Run, user_id: str) -> None:
        """Nothing to do: BEGIN IMMEDIATE already holds the database's one write lock."""

    def scrub(self) -> None:
        """Erased pages must not linger in the write-ahead log either."""
        with self._lock:
            self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def claim_runner(self) -> None:
        """Refuse a second `repair-coach run` on the same file: SQLite takes one process."""
        if self.path == ":memory:" or self._runner is not None:
            return
        fd = os.open(f"{self.path}.run-lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            os.close(fd)
            raise StorageError(
                f"another `repair-coach run` uses {self.path}; several workers need PostgreSQL"
                " (REPAIR_COACH_DATABASE_URL)"
            ) from err
        self._runner = fd

    def close(self) -> None:
        """Close the connection (checkpointing the WAL)."""
        self.db.close()
        if self._runner is not None:
            os.close(self._runner)
            self._runner = None


def private_file(path: Path) -> None:
    """Create the database's folder (0700) and file (0600) private to their owner."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
