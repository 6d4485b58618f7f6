"""Stores on both engines: SQLite in a temporary folder, PostgreSQL in a schema of its own."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from bot.storage import Sealer, Store, open_store

PG_URL = os.environ.get("REPAIR_COACH_TEST_POSTGRES_URL", "")
NO_PG = "REPAIR_COACH_TEST_POSTGRES_URL is not set (.ci/run sets it to this machine's server)"


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped afterwards."""
    if not PG_URL:
        pytest.skip(NO_PG)
    import psycopg  # noqa: PLC0415 - only where PostgreSQL is used

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in PG_URL else "?"
    yield f"{PG_URL}{sep}options={quote(f'-csearch_path={schema}')}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(params=["sqlite", "postgresql"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[..., Store]]:
    """Open stores (as many as a test needs) on one database of the parametrised engine."""
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else ""
    opened: list[Store] = []

    def make(sealer: Sealer | None = None) -> Store:
        store = open_store(tmp_path / "coach.db", url, sealer)
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()
