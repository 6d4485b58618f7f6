"""The scheduler: one repeating job per process (PTB's JobQueue) that sends what came due.

Each tick fires due reminders in batches, one transaction a batch (bot/storage/outreach.py: any
number of workers share them without duplicates), and hands each chat to Delivery, which sends
the stored messages through the Throttle (Telegram's limits). While many chats still wait to be
sent to, it claims no more: a backlog of 100,000 users stays in the database, not in memory.
The tick also prunes what is kept only for redelivery.
"""

from __future__ import annotations

import asyncio
import logging
from functools import partial
from typing import TYPE_CHECKING, Any

from bot.storage import StorageError
from bot.telegram_adapter.runtime import chat_of

if TYPE_CHECKING:
    from bot.telegram_adapter.delivery import Delivery

log = logging.getLogger(__name__)
BATCH = 20  # reminders fired in one transaction
PRUNE_EVERY = 3600.0  # seconds between prunes


class Scheduler:
    """Claims and fires due reminders; Delivery sends them."""

    def __init__(self, delivery: Delivery, waiting_max: int = 200) -> None:
        self.delivery = delivery
        self.waiting_max = waiting_max  # chats with messages on their way before claiming more
        self.pruned = 0.0
        self.running = False
        self.stopping = False  # set at shutdown: a tick working off a backlog ends its round

    async def tick(self, _context: Any = None) -> int:
        """Fire every reminder due now (as the sending keeps pace); return how many spoke."""
        if self.running or self.stopping:  # a long tick (a big backlog) is still at work
            return 0
        self.running = True
        try:
            return await self._tick()
        except StorageError:
            log.warning("reminders wait: the database is unavailable")
            return 0
        finally:
            self.running = False

    async def _tick(self) -> int:
        d = self.delivery
        coach = d.runtime.coach
        loop = asyncio.get_running_loop()
        if loop.time() - self.pruned >= PRUNE_EVERY or not self.pruned:
            await d.db(d.store.prune, coach.clock())
            self.pruned = loop.time()
        spoke = 0
        while not self.stopping:
            while len(d.active) >= self.waiting_max and not self.stopping:  # sending catches up
                await asyncio.sleep(0.05)
            fired = await d.db(partial(coach.remind, now=coach.clock(), outbox=True, limit=BATCH))
            for user, _, applied in fired:
                chat = chat_of(user)
                if applied.queued and chat is not None:
                    d.kick(chat, flush=True)
                    spoke += 1
            if len(fired) < BATCH:
                break
        return spoke

    def stop(self) -> None:
        """Fire nothing more (what is fired is in the outbox; the rest stays due)."""
        self.stopping = True
