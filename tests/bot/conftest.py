"""Stores on both engines: SQLite in a temporary folder, PostgreSQL in a schema of its own."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pg import temporary_schema

from bot.storage import Sealer, Store, open_store

PG_URL = os.environ.get("REPAIR_COACH_TEST_POSTGRES_URL", "")
NO_PG = "REPAIR_COACH_TEST_POSTGRES_URL is not set (.ci/run sets it to this machine's server)"


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped afterwards."""
    if not PG_URL:
        pytest.skip(NO_PG)
    with temporary_schema(PG_URL) as url:
        yield url


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
