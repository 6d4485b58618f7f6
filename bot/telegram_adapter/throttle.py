"""Telegram's sending limits on our side: overall, per chat, and a 429's pause.

One process (SQLite) keeps the overall budget in memory (an aiolimiter bucket). Several
workers on one PostgreSQL database share it through the database (`SharedBudget`, the
`send_budget` row): a worker reserves a tenth of a second's worth of send times at once with
one atomic UPDATE (the database server's clock decides, so workers' clocks do not matter), and
sends at those times. The next reservation comes only once the last of those times has come,
so a worker holds at most a tenth of a second's budget: one killed loses no more than that,
and holds no lock (each reservation is one autocommitted statement). A 429's retry_after is
written to the same row: every worker's next reservation starts after it.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol, runtime_checkable

from aiolimiter import AsyncLimiter

from bot.storage import StorageError

log = logging.getLogger(__name__)
CHATS_KEPT = 10_000  # per-chat limiters remembered (the least recently used go first)
SHARE = 0.1  # seconds' worth of the overall budget reserved at once (and of burst, alone)
STALE = 0.1  # a reserved send time this far past is dropped, not used late (a bunched burst)


@runtime_checkable
class SharedBudget(Protocol):
    """The overall budget in the database (PostgresStore), in the server's clock."""

    def reserve_sends(self, count: int, spacing: float) -> tuple[float, float, float]:
        """Reserve `count` sends `spacing` seconds apart: (first send time, the server's time
        now, the shared pause's end), in the server's epoch seconds."""
        ...

    def pause_sends(self, seconds: float) -> None:
        """Hold every worker's sends for `seconds` from now (a 429's retry_after)."""
        ...


class Throttle:
    """Telegram's limits on the sending side: at most `rate` messages a second overall (across
    every worker sharing `budget`, else this process), a chat at most `burst` at once and then
    one a second, and a 429's `retry_after` honoured by every call (Telegram means the bot, not
    only the one chat)."""

    def __init__(
        self, rate: float = 30.0, burst: int = 3, clock: Callable[[], float] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        budget: SharedBudget | None = None,
    ) -> None:  # fmt: skip
        # A tenth of a second's worth at most at once: the budget Telegram counts is never
        # used to its brim, so requests that arrive bunched (network jitter, a stalled
        # connection) still fit within it.
        self.overall = AsyncLimiter(max(1.0, rate * SHARE), SHARE)
        self.burst = max(1, burst)
        self.chats: OrderedDict[int, AsyncLimiter] = OrderedDict()
        self.clock = clock or (lambda: asyncio.get_running_loop().time())
        self.until = 0.0  # no call before this moment (a 429's retry_after)
        self.credit, self.credit_until = 0, 0.0  # budget reserved and not used (refund)
        self.sleep = sleep
        self.budget = budget
        self.spacing = 1.0 / max(rate, 0.001)
        self.batch = max(1, round(rate * SHARE))
        self.slots: deque[float] = deque()  # reserved send times (this loop's clock), in order
        self.taking = asyncio.Lock()  # one waiter at a time takes the next reserved time
        # A thread of its own: a reservation never queues behind the store's calls.
        self.reserver = ThreadPoolExecutor(1, "send-budget") if budget is not None else None

    async def pause(self, seconds: float) -> None:
        """Hold every call for `seconds` (a 429 answered one of them): in every worker."""
        self.until = max(self.until, self.clock() + seconds)
        if self.budget is not None:
            try:
                await asyncio.to_thread(self.budget.pause_sends, seconds)
            except StorageError:
                log.warning("a 429's pause is held by this worker only: the database is down")

    async def wait(self, chat_id: int, message: bool, paced: bool = True) -> float:
        """Wait out a pause; for a message, also the overall budget and (`paced`) its chat's.
        Returns the send time taken (for `refund`).

        A reply to what the user just wrote is not paced per chat (the user's own pace and
        the backlog cap bound it); what the coach sends first (reminders, leftovers) is."""
        left = self.until - self.clock()
        if left > 0:
            await self.sleep(left)
        if not message:
            return self.clock()
        if paced:
            limiter = self.chats.pop(chat_id, None) or AsyncLimiter(self.burst, self.burst)
            self.chats[chat_id] = limiter
            if len(self.chats) > CHATS_KEPT:
                self.chats.popitem(last=False)
            await limiter.acquire()
        if self.budget is not None:
            return await self._shared()
        if self.credit and self.clock() < self.credit_until:
            self.credit -= 1  # a reservation nobody used, still within its slot
            return self.clock()
        await self.overall.acquire()
        return self.clock()

    async def _shared(self) -> float:
        """The next send time of the shared budget, waited for. Waiters take times one after
        another and each holds the lock until its time has come, so this worker reserves again
        only once its reserved times are used up."""
        async with self.taking:
            while True:
                while self.slots and self.slots[0] < self.clock() - STALE:
                    self.slots.popleft()  # too late now: sent with the next, it would bunch
                if self.slots:
                    break
                if not await self._reserve():
                    await self.overall.acquire()  # the database is down: this process alone
                    return self.clock()
            at = self.slots.popleft()
            left = max(at, self.until) - self.clock()
            if left > 0:
                await self.sleep(left)
            return at

    async def _reserve(self) -> bool:
        assert self.budget is not None
        try:
            first, server_now, paused = await asyncio.get_running_loop().run_in_executor(
                self.reserver, self.budget.reserve_sends, self.batch, self.spacing
            )
        except StorageError:
            log.warning("sending within this worker's own budget: the database is down")
            return False
        offset = self.clock() - server_now  # the server's clock to this loop's
        self.slots.extend(first + offset + i * self.spacing for i in range(self.batch))
        self.until = max(self.until, paused + offset)
        return True

    def refund(self, at: float | None = None) -> None:
        """Give back a send time that found nothing to send: usable while still fresh (a tenth
        of a second: the slot it was taken for)."""
        if self.budget is not None:
            if at is not None and at >= self.clock() - STALE:
                self.slots.appendleft(at)
            return
        self.credit = min(self.credit + 1, 2) if self.clock() < self.credit_until else 1
        self.credit_until = self.clock() + SHARE


__all__ = ["SharedBudget", "Throttle"]
