"""Delivery's own rules, without Telegram: health while the database is down, well-formed
updates."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bot.storage import StorageError
from bot.telegram_adapter.delivery import Delivery, raw_chat, well_formed


class _Runtime:
    coach: Any = type("C", (), {"store": None})()


def test_a_database_that_stays_down_stops_the_process() -> None:
    async def scenario() -> None:
        delivery = Delivery(app=None, runtime=_Runtime(), slots=4, down_limit=0.2)  # type: ignore[arg-type]

        def down() -> None:
            raise StorageError("connection refused")

        for _ in range(3):
            with pytest.raises(StorageError):
                await delivery.db(down)
            assert not delivery.healthy
            await asyncio.sleep(0.1)
        assert delivery.failed.is_set()  # the supervisor restarts it (exit code 3)
        assert await delivery.db(lambda: 5) == 5
        assert delivery.healthy

    asyncio.run(scenario())


def test_only_updates_as_telegram_sends_them_are_taken() -> None:
    assert well_formed({"update_id": 5, "message": {}})
    for body in ([], "x", 5, None, {"update_id": "5"}, {"update_id": True}, {}):
        assert not well_formed(body)
    assert raw_chat({"update_id": 1, "message": {"chat": {"id": 9}}}) == 9
    assert raw_chat({"update_id": 1, "callback_query": {"from": {"id": 4}}}) == 4
    assert raw_chat({"update_id": 1, "message": {"chat": {"id": "9"}}}) is None
