"""The fake Bot API server, fresh for each end-to-end test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fake_telegram import FakeTelegram


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    """A running fake Telegram on 127.0.0.1."""
    server = FakeTelegram()
    server.start()
    yield server
    server.stop()
