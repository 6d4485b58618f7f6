"""What the handlers share: the coach, the sender, and the turn as Telegram sees it."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from telegram import CallbackQuery, Update

from bot.coach import Applied, Coach
from bot.export import document
from bot.telegram_adapter.sending import NotSent, Sender, chosen, keyboard
from dialogue.content import Rendered
from dialogue.events import Event
from dialogue.replies import Reply

log = logging.getLogger(__name__)
Claimed = tuple[int, int, dict[str, Any]]  # an outbox row: update id, seq, message
TYPING_FROM = 3  # a sequence this long (the safety answer) is preceded by "typing…"


def user_key(user_id: int) -> str:
    """The storage id of a Telegram user."""
    return f"tg:{user_id}"


def chat_of(key: str) -> int | None:
    """The private chat of a stored user (None for a user of another front end)."""
    prefix, _, rest = key.partition(":")
    return int(rest) if prefix == "tg" and rest.isdigit() else None


@dataclass
class Runtime:
    """The coach and the sender, shared by every handler through bot_data."""

    coach: Coach
    sender: Sender
    persona_pause: float = 0.0  # seconds of "typing…" before a rehearsal partner's reply
    failed: set[int] = field(default_factory=set)  # updates whose handling raised
    settled: set[int] = field(default_factory=set)  # updates a turn took out of the inbox

    async def turn(self, update: Update, event: Event, query: CallbackQuery | None = None) -> None:
        """Apply an event durably (off the event loop), then send what the coach says."""
        user, chat = update.effective_user, update.effective_chat
        assert user is not None and chat is not None
        key, update_id, language = user_key(user.id), update.update_id, user.language_code or ""
        store = self.coach.store

        def apply() -> tuple[Applied | None, Claimed | None, bool]:  # one trip to the threads
            applied = self.coach.apply(key, event, language, update_id=update_id, outbox=True)
            if applied and not applied.queued:
                return applied, None, False
            return applied, *store.claim(key, now=self.coach.clock())

        applied, first, more = await asyncio.to_thread(apply)
        self.settled.add(update_id)  # its turn took it out of the inbox (or had before)
        if applied is None:  # applied before (a replay): send what is still unsent
            await self.flush(chat.id, key, first, more=more)
            return
        turn, rendered = applied.turn, applied.rendered
        locale = turn.session.locale
        if query is not None:
            if turn.stale:
                await self.sender.answer(query.id, chat.id, rendered[0].text)
                return
            await self.pressed(chat.id, query, rendered, locale)
        if turn.partner is not None:  # the simulated person "types" for a moment
            await self.sender.typing(chat.id)
            await asyncio.sleep(self.persona_pause)
        elif sum(1 for r in rendered if not r.edit) >= TYPING_FROM:
            await self.sender.typing(chat.id)
        if applied.queued:
            await self.flush(chat.id, key, first, more=more)
        else:
            for r in rendered:
                if not r.edit:
                    await self.sender.send(chat.id, r)
        for effect in turn.effects:
            if effect.kind == "export":
                await self.export(chat.id, key, locale)
            elif effect.kind == "chart":
                caption_key = self.coach.caption_key(effect.data)
                caption = self.coach.content.render(Reply(caption_key), locale).html
                png = await asyncio.to_thread(self.coach.chart, effect.data, locale)
                await self.sender.photo(chat.id, png, caption)

    async def pressed(
        self, chat_id: int, query: CallbackQuery, rendered: list[Rendered], locale: str
    ) -> None:
        """Answer the press; tick the choice in place, or shrink the keyboard to the choice."""
        await self.sender.answer(query.id, chat_id)
        message = query.message
        if message is None:
            return
        edits = [r for r in rendered if r.edit]
        if edits:
            await self.sender.edit_keyboard(chat_id, message.message_id, keyboard(edits[-1]))
        elif query.data:
            tick = self.coach.content.locale(locale).label("ui.tick")
            markup = chosen(getattr(message, "reply_markup", None), query.data, tick)
            await self.sender.edit_keyboard(chat_id, message.message_id, markup)

    async def flush(
        self, chat_id: int, key: str, claimed: Claimed | None = None, paced: bool = False,
        more: bool = False,
    ) -> None:  # fmt: skip
        """Send every message of the user's outbox that nobody has claimed, in order.

        Each row is claimed atomically before it is sent, so a message goes out through exactly
        one party, and it is deleted once the call is over (sent, in doubt, or given up).
        `paced`: the chat's own limit applies too (what the coach sends first, not replies).
        `more`: whether messages wait after `claimed` (as its claim told). When that is not
        known, the outbox is looked at before any send budget is spent: a chat kicked by a
        sweep while its messages were already on their way costs no budget.
        """
        store, done, throttle = self.coach.store, None, self.sender.throttle
        while True:
            paid = claimed is None  # reserve the budget first: a claim goes straight out, and
            if paid:  # a worker killed while waiting on the throttle leaves nothing in doubt
                if not more:  # nothing known to wait: forget what was sent, look, spend nothing
                    _, more = await asyncio.to_thread(
                        store.claim, key, done, self.coach.clock(), False
                    )
                    done = None
                    if not more:
                        return
                slot = await throttle.wait(chat_id, True, paced)
                claimed, more = await asyncio.to_thread(store.claim, key, done, self.coach.clock())
                done = None  # forgotten by that claim
                if claimed is None:
                    throttle.refund(slot)
                    return
            update_id, seq, m = claimed
            buttons = tuple(tuple(map(tuple, row)) for row in m["buttons"])
            try:
                await self.sender.send(chat_id, Rendered(m["html"], buttons, token=m["token"]),
                                       later=True, paid=paid, paced=paced)  # fmt: skip
            except NotSent:  # Telegram unreachable: the sweep sends it (and what follows) later
                await asyncio.to_thread(store.unclaim, key, (update_id, seq), done)
                return
            done, claimed = (update_id, seq), None

    async def export(self, chat_id: int, user: str, locale: str) -> None:
        """Send everything stored about the user, in the words they saw, as a JSON file."""
        coach = self.coach
        body = await asyncio.to_thread(
            document, coach.store, user, coach.clock(), coach.content, locale
        )
        caption = self.coach.content.render(Reply("menu.export_caption"), locale).html
        await self.sender.document(chat_id, "repair-coach-export.json", body, caption)

    async def say(self, chat_id: int, key: str, locale: str = "") -> None:
        """Send one content text outside a turn (a group notice, an apology)."""
        loc = self.coach.locale_of(locale)
        await self.sender.send(chat_id, self.coach.content.render(Reply(key), loc))
