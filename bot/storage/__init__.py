"""Sessions, plans and the schedule: SQLite by default (PostgreSQL arrives with many workers)."""

from bot.storage.sqlite import ConflictError, SQLiteStore, StorageError

__all__ = ["ConflictError", "SQLiteStore", "StorageError"]
