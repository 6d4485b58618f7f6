"""Run the real Application against the fake Bot API, in polling or webhook mode."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
from fake_telegram import TOKEN, FakeTelegram

from bot.coach import Clock, Coach, utc_now
from bot.settings import Settings
from bot.storage import SQLiteStore
from bot.telegram_adapter.app import SECRET_HEADER, WebhookServer, build_application, start, stop
from dialogue.content import Content
from dialogue.engine import Engine

_CONTENT: Content | None = None


def settings_for(fake: FakeTelegram, **extra: Any) -> Settings:
    """Settings that point the bot at the fake server."""
    return Settings(
        telegram_bot_token=TOKEN, telegram_api_base_url=fake.base_url, request_timeout=5.0,
        webhook_secret="s3cret-token", **extra,
    )  # fmt: skip


def coach_for(db: Path, clock: Clock = utc_now) -> Coach:
    """A coach over a SQLite file, sharing the loaded content between tests."""
    global _CONTENT  # noqa: PLW0603 - content is read-only; loading it once keeps tests fast
    _CONTENT = _CONTENT or Content()
    return Coach(Engine(_CONTENT), SQLiteStore(db), clock)


@contextlib.asynccontextmanager
async def polling_bot(
    fake: FakeTelegram, db: Path, clock: Clock = utc_now, **extra: Any
) -> AsyncIterator[Any]:
    """The Application, long polling the fake server, until the block ends."""
    coach = coach_for(db, clock)
    app = build_application(settings_for(fake, **extra), coach)
    async with app:
        await start(app, polling=True)
        try:
            yield app
        finally:
            await stop(app)
    coach.store.close()


class WebhookClient:
    """Delivers the fake server's queued updates to the bot's webhook, as Telegram would."""

    def __init__(self, fake: FakeTelegram, url: str, secret: str) -> None:
        self.fake, self.url, self.secret = fake, url, secret
        self.session = aiohttp.ClientSession()
        self.statuses: list[int] = []

    async def post(self, update: dict[str, Any], secret: str | None = None) -> int:
        """POST one update; return the HTTP status."""
        headers = {SECRET_HEADER: self.secret if secret is None else secret}
        async with self.session.post(self.url, json=update, headers=headers) as resp:
            self.statuses.append(resp.status)
            return resp.status

    async def deliver(self, redeliver_failed: bool = True) -> list[int]:
        """Deliver every queued update in order; redeliver those that got a non-200."""
        with self.fake.lock:
            pending, self.fake.updates = list(self.fake.updates), []
        out = []
        for update in pending:
            status = await self.post(update)
            while status != 200 and redeliver_failed and status >= 500:
                status = await self.post(update)
            out.append(status)
        return out


@contextlib.asynccontextmanager
async def webhook_bot(fake: FakeTelegram, db: Path) -> AsyncIterator[WebhookClient]:
    """The Application behind the webhook server, on a free port of 127.0.0.1."""
    coach = coach_for(db)
    settings = settings_for(fake)
    app = build_application(settings, coach)
    secret = settings.webhook_secret.get_secret_value()  # type: ignore[union-attr]
    server = WebhookServer(app, secret)
    async with app:
        await start(app, polling=False)
        port = await server.start("127.0.0.1", 0)
        client = WebhookClient(fake, f"http://127.0.0.1:{port}/telegram", secret)
        try:
            yield client
        finally:
            await client.session.close()
            await server.stop()
            await stop(app)
    coach.store.close()
