"""The Application: builder, handlers, command menu, and polling or webhook: all wiring here."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import signal
from collections.abc import Awaitable, Callable

from aiohttp import web
from telegram import BotCommand
from telegram.error import InvalidToken, NetworkError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    MessageHandler,
    filters,
)

from bot.coach import Coach
from bot.settings import Misconfigured, Settings
from bot.storage import StorageError
from bot.telegram_adapter import handlers
from bot.telegram_adapter.delivery import ALLOWED_UPDATES, DB_DOWN, Delivery, well_formed
from bot.telegram_adapter.request import AiohttpRequest
from bot.telegram_adapter.runtime import Runtime, user_key
from bot.telegram_adapter.scheduler import Scheduler
from bot.telegram_adapter.sending import Sender
from bot.telegram_adapter.throttle import SharedBudget, Throttle

log = logging.getLogger(__name__)
COMMANDS = ("start", "new", "rehearse", "space", "plans", "journal", "progress", "daily",
            "timezone", "pause", "resume", "back", "cancel", "menu", "help", "privacy", "export",
            "delete", "sos")  # fmt: skip
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def build_application(settings: Settings, coach: Coach) -> Application:
    """A python-telegram-bot Application around the coach (no ConversationHandler, no Updater:
    updates reach it through Delivery, stored first)."""
    token = settings.telegram_bot_token.get_secret_value() if settings.telegram_bot_token else ""
    base = settings.telegram_api_base_url.rstrip("/")
    timeout = settings.request_timeout
    poller = AiohttpRequest(1, timeout, timeout, timeout)
    builder = (
        Application.builder()
        .token(token)
        .base_url(f"{base}/bot")
        .base_file_url(f"{base}/file/bot")
        .request(AiohttpRequest(settings.connection_pool_size, timeout, timeout, timeout))
        .get_updates_request(poller)
        .arbitrary_callback_data(False)
        .updater(None)
        .post_init(_register_commands)
    )  # fmt: skip
    app = builder.build()
    store = coach.store  # several workers on PostgreSQL share the overall send budget
    shared = store if isinstance(store, SharedBudget) and store.shared else None
    throttle = Throttle(settings.send_rate, settings.chat_burst, budget=shared)
    sender = Sender(app.bot, on_blocked=coach_blocked(coach), throttle=throttle)
    runtime = Runtime(coach, sender, persona_pause=settings.persona_pause)
    app.bot_data["runtime"] = runtime
    delivery = Delivery(
        app, runtime, settings.max_concurrent_updates, poller, settings.database_down_limit
    )
    app.bot_data["delivery"] = delivery
    scheduler = Scheduler(delivery, waiting_max=max(20, int(settings.send_rate * 4)))
    app.bot_data["scheduler"] = scheduler
    assert app.job_queue is not None  # python-telegram-bot[job-queue] is a dependency
    app.job_queue.run_repeating(scheduler.tick, interval=settings.tick_seconds, first=0.5,
                                name="reminders",
                                job_kwargs={"coalesce": True, "max_instances": 2})  # fmt: skip
    # A tick that outlasts the interval is still at work; the next one returns at once
    # (Scheduler.running) instead of APScheduler logging a warning for every skipped run.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    private = filters.ChatType.PRIVATE
    app.add_handler(ChatMemberHandler(handlers.on_member, ChatMemberHandler.MY_CHAT_MEMBER))
    app.add_handler(MessageHandler(~private & ~filters.StatusUpdate.ALL, handlers.on_group))
    app.add_handler(CallbackQueryHandler(handlers.on_press))
    app.add_handler(MessageHandler(private & filters.UpdateType.EDITED, handlers.on_edited))
    app.add_handler(MessageHandler(private & filters.TEXT, handlers.on_text))
    app.add_handler(MessageHandler(private & filters.LOCATION, handlers.on_location))
    app.add_handler(MessageHandler(private & ~filters.StatusUpdate.ALL, handlers.on_unsupported))
    app.add_error_handler(handlers.on_error)
    return app


def coach_blocked(coach: Coach) -> Callable[[int], Awaitable[None]]:
    """What to do when Telegram says a user blocked the bot: mark them inactive."""

    async def blocked(chat_id: int) -> None:
        await asyncio.to_thread(coach.store.set_active, user_key(chat_id), False, coach.clock())

    return blocked


async def _register_commands(app: Application) -> None:
    """Register the command menu per locale at start-up."""
    runtime: Runtime = app.bot_data["runtime"]
    content = runtime.coach.content
    menus = {
        name: [BotCommand(c, loc.label(f"command.{c}")) for c in COMMANDS]
        for name, loc in content.locales.items()
    }
    await runtime.sender.commands(menus, content.default)  # type: ignore[arg-type]


async def start(app: Application, polling: bool) -> Delivery:
    """Initialise and start an Application, then its delivery (replaying the inbox)."""
    await app.initialize()
    if app.post_init:
        await app.post_init(app)
    await app.start()
    delivery: Delivery = app.bot_data["delivery"]
    await delivery.start(polling)
    return delivery


async def stop(app: Application) -> None:
    """Stop the scheduler's rounds and the delivery, then the Application."""
    app.bot_data["scheduler"].stop()
    await app.bot_data["delivery"].stop()
    await app.stop()


class WebhookServer:
    """An aiohttp server that answers 200 once the update is stored (applied right after)."""

    def __init__(self, app: Application, secret: str, path: str = "/telegram") -> None:
        self.app, self.secret, self.path = app, secret, path
        self.delivery: Delivery = app.bot_data["delivery"]
        self.runner: web.AppRunner | None = None

    async def handle(self, request: web.Request) -> web.Response:
        """Check the secret, store the update, answer; its chat's task applies it."""
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.secret.encode()):
            return web.Response(status=401)
        try:
            raw = json.loads(await request.read())
        except ValueError:
            return web.Response(status=400)
        if not well_formed(raw):
            return web.Response(status=400)  # nothing stored
        try:
            await self.delivery.submit(raw)
        except StorageError:
            return web.Response(status=503)  # not stored: Telegram delivers it again
        return web.Response(status=200)

    async def health(self, _: web.Request) -> web.Response:
        """200 while the database answers, 503 while it does not (for a load balancer)."""
        return web.Response(status=200 if self.delivery.healthy else 503)

    async def start(self, host: str, port: int) -> int:
        """Start listening; return the port (useful with port 0)."""
        web_app = web.Application(client_max_size=1 << 20)
        web_app.router.add_post(self.path, self.handle)
        web_app.router.add_get("/healthz", self.health)
        self.runner = web.AppRunner(web_app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, host, port).start()
        addresses = self.runner.addresses
        return int(addresses[0][1]) if addresses else port

    async def stop(self) -> None:
        """Stop listening."""
        if self.runner:
            await self.runner.cleanup()


STARTUP_RETRY_MAX = 60.0  # seconds between start-up tries at most (doubling from 1 s)


async def _initialize(app: Application, settings: Settings, done: asyncio.Event) -> bool:
    """Initialize the Application (its getMe call), retrying with backoff while the Bot API
    cannot be reached: one log line a try, no traceback. False if stopped meanwhile."""
    delay = 1.0
    while True:
        try:
            await app.initialize()
            return True
        except InvalidToken as err:
            await app.bot.shutdown()  # the HTTP sessions PTB opened before getMe was refused
            raise Misconfigured("TELEGRAM_BOT_TOKEN: Telegram refused this token; copy it "
                                "again from @BotFather") from err  # fmt: skip
        except NetworkError as err:  # TimedOut too
            log.warning("cannot reach the Telegram Bot API at %s (%s); trying again in %.0f s",
                        settings.telegram_api_base_url, type(err).__name__, delay)  # fmt: skip
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), delay)
            await app.bot.shutdown()
            return False
        delay = min(delay * 2, STARTUP_RETRY_MAX)


async def serve(settings: Settings, coach: Coach, webhook: bool, done: asyncio.Event) -> int:
    """Run until `done` is set, or the database stays down (exit code DB_DOWN)."""
    app = build_application(settings, coach)
    if not await _initialize(app, settings, done):
        return 0
    try:
        delivery = await start(app, polling=not webhook)
        server = None
        if webhook:
            secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else ""
            server = WebhookServer(app, secret, settings.webhook_path)
            port = await server.start(settings.webhook_host, settings.webhook_port)
            if settings.webhook_url:
                await app.bot.set_webhook(settings.webhook_url, secret_token=secret,
                                          allowed_updates=ALLOWED_UPDATES)  # fmt: skip
            mode = f"webhook on {settings.webhook_host}:{port}{settings.webhook_path}"
        else:
            await app.bot.delete_webhook()
            mode = "long polling"
        sealed = "on" if coach.store.sealer.active else "off"
        log.info("started as @%s: %s, %s database, encryption %s", app.bot.username, mode,
                 coach.store.dialect, sealed)  # fmt: skip
        failed = asyncio.ensure_future(delivery.failed.wait())
        finished = asyncio.ensure_future(done.wait())
        await asyncio.wait((failed, finished), return_when=asyncio.FIRST_COMPLETED)
        for waiter in (failed, finished):
            waiter.cancel()
        if server:
            await server.stop()
        await stop(app)
        return DB_DOWN if delivery.failed.is_set() else 0
    finally:
        await app.shutdown()


def run(settings: Settings, coach: Coach, webhook: bool) -> int:
    """Polling or webhook mode until SIGINT or SIGTERM; return the exit code."""
    if webhook and not settings.webhook_secret:
        raise SystemExit("webhook mode needs REPAIR_COACH_WEBHOOK_SECRET")

    async def main() -> int:
        done = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, done.set)
        return await serve(settings, coach, webhook, done)

    return asyncio.run(main())
