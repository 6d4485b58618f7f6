"""Delivery: every update stored before it is acknowledged; each chat applied in order by one.

The path of an update, in both modes:
1. `submit` stores it in the inbox (sealed) — only then does the webhook answer 200, or does
   polling ask for updates past it (which confirms it to Telegram). A crash at any later point
   loses nothing: the inbox is replayed at start-up and swept every second.
2. `kick` gives its chat to one task of this process (a queue per chat): the task holds the
   chat across processes (`Store.hold_chat`: an advisory lock on PostgreSQL), applies the
   chat's stored updates in update-id order, and releases it. A worker that cannot hold the
   chat leaves the update to the holder, which looks again after releasing it; Telegram sends
   a chat's next update only after the previous one is acknowledged, so a chat's inbox is in
   update-id order whichever workers the updates reached.
3. Each chat's task takes one of `slots` concurrency slots, however long its backlog: a flooding
   chat uses one slot, and past `BACKLOG_CAP` stored updates it gets one "slow down" note.
Failures: a turn that raises stays in the inbox and is tried again by the sweep, in order,
`MAX_ATTEMPTS` times, then dropped with an apology. While the database is unreachable nothing
is acknowledged; after `down_limit` seconds of that the process stops (exit code 3) for its
supervisor to restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from telegram import Update
from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application

from bot.storage import StorageError
from bot.telegram_adapter.request import AiohttpRequest
from bot.telegram_adapter.runtime import Runtime, chat_of, user_key

log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_ATTEMPTS = 5  # tries of an update whose turn raises, before it is dropped with an apology
SWEEP_EVERY = 1.0  # seconds between looks for stored work nobody is applying
BATCH = 16  # stored updates read at once per chat
POLL_TIMEOUT = 25  # long-polling seconds
MAX_BACKLOG = 2000  # updates this process stored and has not applied: polling pauses past it
# Update types the handlers take: Telegram sends no others.
ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "my_chat_member", "channel_post"]
DB_DOWN = 3  # exit code when the database stays unreachable


def raw_chat(raw: dict[str, Any]) -> int | None:
    """The chat of an update's JSON, read without building PTB objects."""
    for field in ("message", "edited_message", "callback_query", "my_chat_member", "channel_post"):
        body = raw.get(field)
        if isinstance(body, dict):
            chat = body.get("chat") or (body.get("message") or {}).get("chat") or body.get("from")
            if isinstance(chat, dict) and isinstance(chat.get("id"), int):
                return int(chat["id"])
    return None


def well_formed(raw: object) -> bool:
    """An update as Telegram sends it: a JSON object with an integer update_id."""
    return isinstance(raw, dict) and type(raw.get("update_id")) is int


class Delivery:
    """The inbox, the per-chat queues and the sweep of one process."""

    def __init__(
        self, app: Application, runtime: Runtime, slots: int, poller: AiohttpRequest | None = None,
        down_limit: float = 60.0,
    ) -> None:  # fmt: skip
        self.app, self.runtime, self.poller = app, runtime, poller
        self.store = runtime.coach.store
        self.slots = asyncio.Semaphore(slots)
        self.down_limit = down_limit
        self.active: set[int] = set()  # chats with a task in this process
        self.again: set[int] = set()  # chats kicked while their task ran
        self.noted: set[int] = set()  # chats told to slow down, until their backlog is applied
        self.flush_first: set[int] = set()  # chats whose outbox has messages nobody sends
        self.idle = asyncio.Event()  # set while no chat has a task
        self.idle.set()
        self.tasks: set[asyncio.Task[Any]] = set()
        self.pending = 0  # updates stored here and not yet applied
        self.down_since: float | None = None
        self.failed = asyncio.Event()  # the database stayed down: stop
        self._loops: list[asyncio.Task[Any]] = []

    # -- storage off the event loop, with the health it shows -------------------------------

    async def db(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a store call in a thread; note whether the database answers."""
        loop = asyncio.get_running_loop()
        try:
            result = await asyncio.to_thread(fn, *args)
        except StorageError:
            now = loop.time()
            self.down_since = self.down_since or now
            if now - self.down_since >= self.down_limit and not self.failed.is_set():
                log.error("the database has been unreachable for %.0f s: stopping", self.down_limit)
                self.failed.set()
            raise
        self.down_since = None
        return result

    @property
    def healthy(self) -> bool:
        """Whether the database answered the last call."""
        return self.down_since is None

    def spawn(self, coroutine: Coroutine[Any, Any, Any]) -> None:
        """Run a task, keeping a reference until it ends."""
        task = asyncio.get_running_loop().create_task(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    # -- the inbox ----------------------------------------------------------------------------

    async def submit(self, raw: dict[str, Any]) -> str:
        """Store an update (raises StorageError when it could not be), then see to its chat."""
        chat = raw_chat(raw) or 0
        owner = user_key(chat) if chat > 0 else None  # a private chat: sealed with its user's key
        status = await self.db(self.store.receive, chat, raw["update_id"], json.dumps(raw),
                               self.runtime.coach.clock(), owner)  # fmt: skip
        if status == "new":
            self.pending += 1
            self.kick(chat)
        elif status == "over" and chat > 0 and chat not in self.noted:
            self.noted.add(chat)  # once per backlog: until the chat's task catches up
            self.spawn(self.runtime.say(chat, "common.slow_down", _language(raw)))
        return status

    def kick(self, chat: int, flush: bool = False) -> None:
        """See that the chat's stored updates are applied: by this process's task for it.

        `flush`: its user's outbox holds messages nobody is sending (the sweep found them).
        """
        if flush:
            self.flush_first.add(chat)
        if chat in self.active:
            self.again.add(chat)
            return
        self.active.add(chat)
        self.idle.clear()
        self.spawn(self.drain(chat))

    async def hold(self, chat: int, take: bool) -> bool:
        """Hold or release a chat: in memory for one process (SQLite), else in the database."""
        call = self.store.hold_chat if take else self.store.release_chat
        if not self.store.shared:
            return bool(call(chat))
        return bool(await self.db(call, chat))

    async def drain(self, chat: int) -> None:
        """Hold the chat, send what its outbox still holds, apply its inbox in order."""
        try:
            async with self.slots:
                while True:
                    self.again.discard(chat)
                    if not await self.hold(chat, True):
                        return  # another worker holds it and will find these updates
                    try:
                        if chat in self.flush_first and chat > 0:  # a dead worker's leftovers
                            self.flush_first.discard(chat)
                            await self.runtime.flush(chat, user_key(chat), paced=True)
                        blocked = await self.apply_waiting(chat)
                    finally:
                        await self.hold(chat, False)
                    if blocked:
                        return  # the sweep tries again
                    if chat in self.again:
                        continue
                    # Another worker may have stored an update while we held the chat (and
                    # left it to us): look once more, now that we no longer hold it.
                    more = self.store.shared and await self.db(self.store.waiting, chat, 1)
                    if not more and chat not in self.again:  # `again` read after the query
                        return
        except StorageError:
            log.warning("a chat's updates wait: the database is unavailable")
        except Exception as err:  # never lose the task silently
            log.error("a chat's updates wait after %s", type(err).__name__)
        finally:
            self.active.discard(chat)
            self.noted.discard(chat)
            if not self.active:
                self.idle.set()

    async def apply_waiting(self, chat: int) -> bool:
        """Apply the chat's stored updates in update-id order; True when one failed and waits."""
        while True:
            rows = await self.db(self.store.waiting, chat, BATCH)
            for update_id, raw, _ in rows:
                if await self.apply(update_id, raw):
                    self.pending = max(0, self.pending - 1)
                    continue
                attempts = await self.db(self.store.failed_attempt, update_id)
                if attempts < MAX_ATTEMPTS:
                    return True
                log.error("an update failed %d times: dropped with an apology", attempts)
                await self.db(self.store.settle, update_id, self.runtime.coach.clock())
                self.pending = max(0, self.pending - 1)
                if chat > 0:
                    await self.runtime.say(chat, "common.error", _language(json.loads(raw)))
            if len(rows) < BATCH:  # what arrives later comes with a kick (`again`)
                return False

    async def apply(self, update_id: int, raw: str) -> bool:
        """Run the handlers on one stored update and settle it; False when its handling raised."""
        update = Update.de_json(json.loads(raw), self.app.bot)
        await self.app.process_update(update)
        settled = update_id in self.runtime.settled
        self.runtime.settled.discard(update_id)
        if update_id in self.runtime.failed:
            self.runtime.failed.discard(update_id)
            return False
        if not settled:  # no turn took it out of the inbox (a group, a member update)
            await self.db(self.store.settle, update_id, self.runtime.coach.clock())
        return True

    # -- the sweep, replay at start-up included ------------------------------------------------

    async def sweep(self) -> None:
        """Give every chat with stored work to a task, every SWEEP_EVERY seconds."""
        while True:
            with contextlib.suppress(StorageError):
                chats, users = await self.db(self.store.with_work)
                for chat in chats:
                    self.kick(chat)
                for key in users:
                    chat = chat_of(key)
                    if chat is not None:
                        self.kick(chat, flush=True)
            await asyncio.sleep(SWEEP_EVERY)

    # -- long polling --------------------------------------------------------------------------

    async def poll(self) -> None:
        """getUpdates, store each update, then ask past it (which confirms it to Telegram)."""
        assert self.poller is not None
        request, url = self.poller, f"{self.app.bot.base_url}/getUpdates"
        offset: int | None = None
        backoff = 0.5
        while True:
            if (
                self.pending >= MAX_BACKLOG
            ):  # bounded: what is stored waits, Telegram holds the rest
                await asyncio.sleep(0.1)
                continue
            params = {"offset": offset, "timeout": POLL_TIMEOUT, "allowed_updates": ALLOWED_UPDATES}
            try:
                updates = await request.call(url, params, read_timeout=POLL_TIMEOUT + 10)
                for raw in updates if isinstance(updates, list) else ():
                    if well_formed(raw):
                        await self.submit(raw)
                        offset = max(offset or 0, raw["update_id"] + 1)
                backoff = 0.5
            except RetryAfter as err:
                await asyncio.sleep(_seconds(err.retry_after))
            except (InvalidToken, Conflict) as err:
                log.error("polling refused by the Bot API: %s", type(err).__name__)
                await asyncio.sleep(5)
            except (StorageError, NetworkError, TelegramError) as err:
                log.warning("polling paused: %s", type(err).__name__)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)

    # -- running --------------------------------------------------------------------------------

    async def start(self, polling: bool) -> None:
        """Start the sweep (which replays the inbox at once) and, for polling, the poller."""
        loop = asyncio.get_running_loop()
        self._loops.append(loop.create_task(self.sweep()))
        if polling:
            self._loops.append(loop.create_task(self.poll()))

    async def stop(self, grace: float = 10.0) -> None:
        """Stop taking updates; let the chats under way finish (what is left stays stored)."""
        for task in self._loops:
            task.cancel()
        for task in self._loops:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.tasks:
            await asyncio.wait(list(self.tasks), timeout=grace)


def _seconds(value: Any) -> float:
    return value.total_seconds() if hasattr(value, "total_seconds") else float(value)


def _language(raw: dict[str, Any]) -> str:
    for field in ("message", "edited_message", "callback_query"):
        sender = (raw.get(field) or {}).get("from") or {}
        if sender.get("language_code"):
            return str(sender["language_code"])
    return ""


__all__ = ["ALLOWED_UPDATES", "DB_DOWN", "Delivery", "raw_chat", "well_formed"]
