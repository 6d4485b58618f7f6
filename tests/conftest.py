"""Shared fixtures: the shipped content, one engine, a fixed clock."""

from __future__ import annotations

from datetime import datetime

import pytest
from coach_testing import NOW

from dialogue.content import Content
from dialogue.engine import Engine


@pytest.fixture(scope="session")
def content() -> Content:
    """The shipped content, loaded once."""
    return Content()


@pytest.fixture(scope="session")
def engine(content: Content) -> Engine:
    """One engine for every test: it holds no per-user state; the country is unknown at first."""
    return Engine(content)


@pytest.fixture
def now() -> datetime:
    """A fixed clock."""
    return NOW
