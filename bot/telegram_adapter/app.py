"""The Application: builder, handlers, command menu, and polling or webhook: all wiring here."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import signal
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from aiohttp import web
from telegram import BotCommand, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    MessageHandler,
    filters,
)

from bot.coach import Coach
from bot.settings import Settings
from bot.telegram_adapter import handlers
from bot.telegram_adapter.ordering import ChatLocks, PerChatProcessor
from bot.telegram_adapter.request import AiohttpRequest
from bot.telegram_adapter.runtime import Runtime, user_key
from bot.telegram_adapter.sending import Sender

log = logging.getLogger(__name__)
COMMANDS = ("start", "new", "space", "plans", "journal", "progress", "back", "cancel", "help",
            "privacy", "export", "delete", "sos")  # fmt: skip
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
STALE_AFTER = 10.0  # seconds after which a received, unapplied update no longer holds its chat


def build_application(settings: Settings, coach: Coach, polling: bool = True) -> Application:
    """A python-telegram-bot Application around the coach (no ConversationHandler)."""
    token = settings.telegram_bot_token.get_secret_value() if settings.telegram_bot_token else ""
    base = settings.telegram_api_base_url.rstrip("/")
    locks = ChatLocks()
    timeout = settings.request_timeout
    builder = (
        Application.builder()
        .token(token)
        .base_url(f"{base}/bot")
        .base_file_url(f"{base}/file/bot")
        .request(AiohttpRequest(settings.connection_pool_size, timeout, timeout, timeout))
        .get_updates_request(AiohttpRequest(1, timeout, timeout, timeout))
        .concurrent_updates(PerChatProcessor(settings.max_concurrent_updates, locks))
        .arbitrary_callback_data(False)
        .post_init(_register_commands)
    )  # fmt: skip
    if not polling:
        builder = builder.updater(None)
    app = builder.build()
    runtime = Runtime(coach, Sender(app.bot, on_blocked=coach_blocked(coach)))
    app.bot_data["runtime"] = runtime
    app.bot_data["locks"] = locks
    private = filters.ChatType.PRIVATE
    app.add_handler(ChatMemberHandler(handlers.on_member, ChatMemberHandler.MY_CHAT_MEMBER))
    app.add_handler(MessageHandler(~private & ~filters.StatusUpdate.ALL, handlers.on_group))
    app.add_handler(CallbackQueryHandler(handlers.on_press))
    app.add_handler(MessageHandler(private & filters.UpdateType.EDITED, handlers.on_edited))
    app.add_handler(MessageHandler(private & filters.TEXT, handlers.on_text))
    app.add_handler(MessageHandler(private & ~filters.StatusUpdate.ALL, handlers.on_unsupported))
    app.add_error_handler(handlers.on_error)
    return app


def coach_blocked(coach: Coach) -> Callable[[int], None]:
    """What to do when Telegram says a user blocked the bot: mark them inactive."""
    return lambda chat_id: coach.store.set_active(user_key(chat_id), False)


async def _register_commands(app: Application) -> None:
    """Register the command menu per locale at start-up."""
    runtime: Runtime = app.bot_data["runtime"]
    content = runtime.coach.content
    menus = {
        name: [BotCommand(c, loc.label(f"command.{c}")) for c in COMMANDS]
        for name, loc in content.locales.items()
    }
    await runtime.sender.commands(menus, content.default)  # type: ignore[arg-type]


async def start(app: Application) -> None:
    """Initialise and start an Application outside run_polling (post_init included)."""
    await app.initialize()
    if app.post_init:
        await app.post_init(app)
    await app.start()


def run_polling(settings: Settings, coach: Coach) -> None:
    """Long polling until interrupted."""
    app = build_application(settings, coach, polling=True)
    app.run_polling(allowed_updates=Update.ALL_TYPES, drop_pending_updates=False)


def raw_chat(raw: dict[str, Any]) -> int | None:
    """The chat of an update's JSON, read without building PTB objects."""
    for field in ("message", "edited_message", "callback_query", "my_chat_member", "channel_post"):
        body = raw.get(field)
        if isinstance(body, dict):
            chat = body.get("chat") or (body.get("message") or {}).get("chat") or body.get("from")
            if isinstance(chat, dict) and "id" in chat:
                return int(chat["id"])
    return None


class WebhookServer:
    """An aiohttp server that answers 200 only after the update's turn is durable."""

    def __init__(
        self, app: Application, secret: str, path: str = "/telegram", reorder_window: float = 0.2
    ) -> None:
        self.app, self.secret, self.path = app, secret, path
        self.reorder_window = reorder_window
        self.runner: web.AppRunner | None = None
        app.bot_data["runtime"].track_failures = True

    async def wait_for_earlier(self, runtime: Runtime, chat: int, update_id: int) -> None:
        """Apply a chat's updates in update-id order across workers.

        The update is noted as received; after a short window in which updates sent at the same
        moment arrive, it waits while an earlier update of the chat is held by some worker.
        An earlier one whose worker died stops counting after STALE_AFTER seconds.
        """
        store, clock = runtime.coach.store, runtime.coach.clock
        await asyncio.sleep(self.reorder_window)
        deadline = asyncio.get_running_loop().time() + STALE_AFTER
        while asyncio.get_running_loop().time() < deadline:
            since = clock() - timedelta(seconds=STALE_AFTER)
            earliest = store.earliest_waiting(chat, since)
            if earliest is None or earliest >= update_id:
                return
            await asyncio.sleep(0.01)

    async def handle(self, request: web.Request) -> web.Response:
        """Check the secret, apply the update under its chat's lock, then answer."""
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.secret.encode()):
            return web.Response(status=401)
        runtime: Runtime = self.app.bot_data["runtime"]
        try:
            raw = json.loads(await request.read())
            key = raw_chat(raw) if self.reorder_window else None
            if key is not None:  # noted before anything else, so a later update can wait for it
                runtime.coach.store.receive(key, int(raw["update_id"]), runtime.coach.clock())
            update = Update.de_json(raw, self.app.bot)
        except (ValueError, TypeError, KeyError):
            return web.Response(status=400)
        if update is None:
            return web.Response(status=400)
        try:
            if key is not None:
                await self.wait_for_earlier(runtime, key, update.update_id)
            async with self.app.bot_data["locks"].hold(key):
                await self.app.process_update(update)
        finally:
            if key is not None:
                runtime.coach.store.settled(key, update.update_id)
        if update.update_id in runtime.failed:
            runtime.failed.discard(update.update_id)
            return web.Response(status=500)  # not durable: Telegram will deliver it again
        return web.Response(status=200)

    async def start(self, host: str, port: int) -> int:
        """Start listening; return the port (useful with port 0)."""
        web_app = web.Application(client_max_size=1 << 20)
        web_app.router.add_post(self.path, self.handle)
        self.runner = web.AppRunner(web_app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, host, port)
        await site.start()
        sockets = site._server.sockets if site._server else []  # type: ignore[union-attr]
        return sockets[0].getsockname()[1] if sockets else port

    async def stop(self) -> None:
        """Stop listening."""
        if self.runner:
            await self.runner.cleanup()


async def serve_webhook(settings: Settings, coach: Coach, stop: asyncio.Event) -> None:
    """Run in webhook mode until `stop` is set."""
    if not settings.webhook_secret:
        raise SystemExit("webhook mode needs REPAIR_COACH_WEBHOOK_SECRET")
    secret = settings.webhook_secret.get_secret_value()
    app = build_application(settings, coach, polling=False)
    server = WebhookServer(app, secret, settings.webhook_path, settings.reorder_window)
    async with app:
        await start(app)
        port = await server.start(settings.webhook_host, settings.webhook_port)
        if settings.webhook_url:
            await app.bot.set_webhook(settings.webhook_url, secret_token=secret,
                                      allowed_updates=Update.ALL_TYPES)  # fmt: skip
        log.info("webhook listening on %s:%d%s", settings.webhook_host, port, settings.webhook_path)
        await stop.wait()
        await server.stop()
        await app.stop()


def run_webhook(settings: Settings, coach: Coach) -> None:
    """Webhook mode until interrupted (SIGINT or SIGTERM)."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        await serve_webhook(settings, coach, stop)

    asyncio.run(main())
