"""Shared fixtures: the shipped content, one engine, a fixed clock."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dialogue.content import Content
from dialogue.engine import Engine

NOW = datetime(2026, 11, 27, 18, 30, tzinfo=UTC)


@pytest.fixture(scope="session")
def content() -> Content:
    """The shipped content, loaded once."""
    return Content()


@pytest.fixture(scope="session")
def engine(content: Content) -> Engine:
    """One engine for every test: it holds no per-user state."""
    return Engine(content, default_country="US")


@pytest.fixture
def now() -> datetime:
    """A fixed clock."""
    return NOW
