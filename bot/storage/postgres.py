"""PostgreSQL with psycopg 3: the same SQL as SQLite, over a pool of connections.

The user's row is locked for each turn, so several workers apply one user's turns one at a
time. Connections are checked before use and replaced when broken (a restart, a failover, an
idle killer); every statement has a lock and a statement timeout. A chat is held with a
session advisory lock on one connection kept for that purpose: its holder is alive exactly as
long as that connection (PostgreSQL releases the lock the moment the worker's connection
ends, kill -9 included), with no clock involved.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from bot.storage.base import Run, SQLStore, StorageError
from bot.storage.crypto import Sealer

log = logging.getLogger(__name__)
CONNECT_TIMEOUT = 5  # seconds to open a connection
CHECK_AFTER = 5.0  # seconds of rest after which a pooled connection is checked before use
# pooled connection -> when it was last handed out (forgotten with the connection)
_USED: weakref.WeakKeyDictionary[psycopg.Connection[Any], float] = weakref.WeakKeyDictionary()
POOL_TIMEOUT = 10.0  # seconds to wait for a free or new connection
SESSION = (  # per connection: never wait forever on a lock or a statement
    "SET lock_timeout = '10s'",
    "SET statement_timeout = '30s'",
    "SET idle_in_transaction_session_timeout = '60s'",
    # the server notices a vanished worker within about 20 s (its chat locks are freed)
    "SET tcp_keepalives_idle = 10",
    "SET tcp_keepalives_interval = 5",
    "SET tcp_keepalives_count = 2",
)
KEEPALIVE = {"keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5,
             "keepalives_count": 2}  # fmt: skip
CHAT_KEY = "hashtextextended(current_schema() || ':' || %s::text, 0)"  # one per schema+chat
HOLD, RELEASE = f"SELECT pg_try_advisory_lock({CHAT_KEY})", f"SELECT pg_advisory_unlock({CHAT_KEY})"
# The overall send budget all workers share (schema.send_budget, one row): sends `spacing`
# apart from the later of the last one reserved, now, and the end of a 429's pause.
SERVER_NOW = "(SELECT extract(epoch FROM clock_timestamp())::float8 AS t) AS n"
RESERVE = (
    "UPDATE send_budget SET tat = greatest(tat, n.t, paused_until) + %s * %s"
    f" FROM {SERVER_NOW} WHERE name = 'overall' RETURNING tat - %s * %s, n.t, paused_until"
)
PAUSE = (
    "UPDATE send_budget SET paused_until = greatest(paused_until, n.t + %s)"
    f" FROM {SERVER_NOW} WHERE name = 'overall' RETURNING paused_until"
)
BUDGET_ROW = "INSERT INTO send_budget VALUES ('overall', 0, 0) ON CONFLICT DO NOTHING"


def _configure(conn: psycopg.Connection[Any]) -> None:
    for statement in SESSION:
        conn.execute(statement)


def _check_if_idle(conn: psycopg.Connection[Any]) -> None:
    """Check a pooled connection before use if it has rested a while (a round trip each time
    cost a third of a busy worker's latency; a connection used a moment ago is alive, and one
    that is not fails its transaction, which is tried again)."""
    if time.monotonic() - _USED.get(conn, 0.0) > CHECK_AFTER:
        ConnectionPool.check_connection(conn)
    _USED[conn] = time.monotonic()


class PostgresStore(SQLStore):
    """A pool of connections to a PostgreSQL database named by a URL."""

    dialect = "postgresql"
    shared = True
    skip_locked = " FOR UPDATE OF s, u SKIP LOCKED"  # workers firing together: other users

    def __init__(
        self, url: str, sealer: Sealer | None = None, pool_size: int = 8,
        name: str = "repair-coach",
    ) -> None:  # fmt: skip
        super().__init__(sealer)
        self.url, self.name = url, name
        self._local = threading.local()  # the connection of the transaction under way
        self._holder: psycopg.Connection[Any] | None = None
        self.pool = ConnectionPool(
            url, min_size=1, max_size=pool_size, open=False, timeout=POOL_TIMEOUT,
            kwargs={"autocommit": True, "connect_timeout": CONNECT_TIMEOUT,
                    "application_name": name, **KEEPALIVE},
            configure=_configure, check=_check_if_idle,
            name=name,
        )  # fmt: skip
        try:
            self.pool.open(wait=True, timeout=POOL_TIMEOUT)
        except PoolTimeout as err:
            self.pool.close()
            raise StorageError("cannot connect to the PostgreSQL database") from err
        try:
            self.migrate()
        except BaseException:
            self.pool.close()
            raise

    @contextmanager
    def transaction(self) -> Iterator[Run]:
        """A transaction on a pooled connection (a savepoint inside one under way)."""
        conn = getattr(self._local, "conn", None)
        try:
            if conn is not None:
                with conn.transaction(), conn.cursor() as cur:
                    yield _runner(cur)
                return
            with self.pool.connection() as conn:
                self._local.conn = conn
                try:
                    with conn.transaction(), conn.cursor() as cur:
                        yield _runner(cur)
                finally:
                    self._local.conn = None
        except PoolTimeout as err:
            raise StorageError("the PostgreSQL database is unavailable") from err
        except psycopg.Error as err:
            raise StorageError(f"{type(err).__name__}: {err.sqlstate or ''}") from err

    def lock_schema(self, run: Run) -> None:
        """Workers starting together on any database migrate one after another."""
        run("SELECT pg_advisory_xact_lock(?, ?)", (0x5EC0, 0xAC4))

    def lock_user(self, run: Run, user_id: str) -> None:
        """Create the user's row if needed and hold it until the turn commits."""
        run(
            "INSERT INTO users (user_id, created_at) VALUES (?, now()::text)"
            " ON CONFLICT DO NOTHING",
            (user_id,),
        )
        run("SELECT 1 FROM users WHERE user_id = ? FOR UPDATE", (user_id,))

    def scrub(self) -> None:
        """After an erasure: rewrite the table of users' keys, so the erased user's key is not
        left in its files as a dead row version (their other rows' old versions stay, sealed
        with that key; the write-ahead log keeps it until PostgreSQL recycles the segment)."""
        try:
            with self.pool.connection() as conn:
                conn.execute("VACUUM FULL user_keys")
        except (psycopg.Error, PoolTimeout):  # the erasure stands; the next one rewrites again
            log.warning("the table of users' keys could not be rewritten after an erasure")

    def reserve_sends(self, count: int, spacing: float) -> tuple[float, float, float]:
        """Reserve the next `count` sends of the budget every worker shares, `spacing` seconds
        apart: (the first one's time, the server's time now, the shared pause's end), epoch
        seconds of the server's clock. One autocommitted statement: one round trip, and a
        worker that dies holds nothing."""
        row = self._budget(RESERVE, (count, spacing, count, spacing), BUDGET_ROW)
        return float(row[0]), float(row[1]), float(row[2])

    def pause_sends(self, seconds: float) -> None:
        """Hold every worker's sends for `seconds` from now (Telegram answered 429)."""
        self._budget(PAUSE, (seconds,), BUDGET_ROW)

    def _budget(self, sql: str, params: tuple[Any, ...], create: str) -> Any:
        try:
            with self.pool.connection() as conn:
                row = conn.execute(sql, params).fetchone()
                if row is None:  # the first use ever
                    conn.execute(create)
                    row = conn.execute(sql, params).fetchone()
                return row
        except PoolTimeout as err:
            raise StorageError("the PostgreSQL database is unavailable") from err
        except psycopg.Error as err:
            raise StorageError(f"{type(err).__name__}: {err.sqlstate or ''}") from err

    def hold_chat(self, chat_id: int) -> bool:
        """Take the chat's advisory lock on the holder connection (False: another has it).

        A holder connection found broken is replaced once (it held nothing any more).
        """
        with self._holds_lock:
            if chat_id in self._holds:
                return False
            for attempt in (1, 2):
                try:
                    got = self._holding().execute(HOLD, (chat_id,)).fetchone()
                    break
                except psycopg.Error as err:
                    self._drop_holder()
                    if attempt == 2:
                        raise StorageError(f"cannot hold a chat: {type(err).__name__}") from err
            if got and got[0]:
                self._holds.add(chat_id)
                return True
            return False

    def release_chat(self, chat_id: int) -> None:
        """Release the chat's advisory lock (a lost connection has released it already)."""
        with self._holds_lock:
            if chat_id not in self._holds:
                return
            self._holds.discard(chat_id)
            try:
                self._holding().execute(RELEASE, (chat_id,))
            except psycopg.Error:
                self._drop_holder()

    def _holding(self) -> psycopg.Connection[Any]:
        if self._holder is None or self._holder.closed:
            self._holds.clear()  # a new connection holds nothing
            try:
                self._holder = psycopg.connect(
                    self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT,
                    application_name=self.name, **KEEPALIVE,
                )  # fmt: skip
                _configure(self._holder)
            except psycopg.Error as err:
                raise StorageError("cannot connect to the PostgreSQL database") from err
        return self._holder

    def _drop_holder(self) -> None:
        if self._holder is not None:
            self._holder.close()
        self._holder = None
        self._holds.clear()

    def close(self) -> None:
        """Close every connection."""
        with self._holds_lock:
            self._drop_holder()
        self.pool.close()


def _runner(cur: psycopg.Cursor[Any]) -> Run:
    def run(sql: str, params: tuple[Any, ...]) -> psycopg.Cursor[Any]:
        return cur.execute(sql.replace("?", "%s"), params)

    return run
