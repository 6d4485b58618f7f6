"""A throwaway PostgreSQL schema: tests and benchmarks never touch each other's tables."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from urllib.parse import quote


@contextlib.contextmanager
def temporary_schema(url: str, prefix: str = "t") -> Iterator[str]:
    """A URL whose search_path is a fresh schema on the server; the schema is dropped after."""
    import psycopg  # noqa: PLC0415 - only where PostgreSQL is used

    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        sep = "&" if "?" in url else "?"
        yield f"{url}{sep}options={quote(f'-csearch_path={schema}')}"
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")
