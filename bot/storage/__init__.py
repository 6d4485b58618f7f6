"""Sessions, plans, the schedule and more: SQLite by default, PostgreSQL for many workers."""

from __future__ import annotations

from pathlib import Path

from bot.storage.base import AlreadyApplied, ConflictError, KeyRefused, SQLStore, StorageError
from bot.storage.crypto import Sealer
from bot.storage.sqlite import SQLiteStore

Store = SQLStore


def open_store(database: str | Path, url: str = "", sealer: Sealer | None = None) -> SQLStore:
    """PostgreSQL when a URL is given, else the SQLite file at `database`."""
    if url:
        from bot.storage.postgres import PostgresStore  # noqa: PLC0415 - psycopg only when used

        return PostgresStore(url, sealer)
    return SQLiteStore(database, sealer)


__all__ = [
    "AlreadyApplied",
    "ConflictError",
    "KeyRefused",
    "SQLiteStore",
    "Sealer",
    "StorageError",
    "Store",
    "open_store",
]  # fmt: skip
