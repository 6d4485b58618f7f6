"""PostgreSQL with psycopg 3: the same SQL as SQLite; the user's row locked for each turn,
so several workers apply one user's turns one at a time."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg

from bot.storage.base import Run, SQLStore, StorageError
from bot.storage.crypto import Sealer


class PostgresStore(SQLStore):
    """One connection to a PostgreSQL database named by a URL."""

    dialect = "postgresql"

    def __init__(self, url: str, sealer: Sealer | None = None) -> None:
        super().__init__(sealer)
        self.url = url
        self._lock = threading.RLock()
        try:
            self.conn = psycopg.connect(url, autocommit=True)
        except psycopg.Error as err:
            raise StorageError(f"cannot use the PostgreSQL database: {type(err).__name__}") from err
        try:
            self.migrate()
        except BaseException:
            self.conn.close()
            raise

    @contextmanager
    def transaction(self) -> Iterator[Run]:
        """A transaction on the store's connection."""
        with self._lock:
            try:
                with self.conn.transaction(), self.conn.cursor() as cur:

                    def run(sql: str, params: tuple[Any, ...]) -> psycopg.Cursor[Any]:
                        return cur.execute(sql.replace("?", "%s"), params)

                    yield run
            except psycopg.Error as err:
                raise StorageError(f"{type(err).__name__}: {err.sqlstate or ''}") from err

    def lock_schema(self, run: Run) -> None:
        """Workers starting together migrate one after another."""
        run("SELECT pg_advisory_xact_lock(?)", (0x5EC0AC4,))

    def lock_user(self, run: Run, user_id: str) -> None:
        """Create the user's row if needed and hold it until the turn commits."""
        run(
            "INSERT INTO users (user_id, created_at) VALUES (?, now()::text)"
            " ON CONFLICT DO NOTHING",
            (user_id,),
        )
        run("SELECT 1 FROM users WHERE user_id = ? FOR UPDATE", (user_id,))

    def relax(self, run: Run) -> None:
        """The outbox's bookkeeping commits without waiting for the disk (a worker's death
        loses nothing committed; only the server's could, and then a message is resent)."""
        run("SET LOCAL synchronous_commit TO OFF", ())

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()
