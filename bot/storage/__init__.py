"""Sessions, plans and the schedule: SQLite by default (PostgreSQL arrives with many workers)."""

from bot.storage.sqlite import AlreadyApplied, ConflictError, SQLiteStore, StorageError

__all__ = ["AlreadyApplied", "ConflictError", "SQLiteStore", "StorageError"]
