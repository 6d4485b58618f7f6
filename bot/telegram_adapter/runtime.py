"""What the handlers share: the coach, the sender, and the turn as Telegram sees it."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from telegram import CallbackQuery, Update

from bot.coach import Coach
from bot.telegram_adapter.sending import Sender, chosen, keyboard
from dialogue.content import Rendered
from dialogue.events import Event
from dialogue.replies import Reply

log = logging.getLogger(__name__)
TYPING_FROM = 3  # a sequence this long (the safety answer) is preceded by "typing…"


def user_key(user_id: int) -> str:
    """The storage id of a Telegram user."""
    return f"tg:{user_id}"


@dataclass
class Runtime:
    """The coach and the sender, shared by every handler through bot_data."""

    coach: Coach
    sender: Sender
    failed: set[int] = field(default_factory=set)  # updates whose turn did not become durable
    track_failures: bool = False  # the webhook server reads `failed` (polling has no use for it)

    async def turn(self, update: Update, event: Event, query: CallbackQuery | None = None) -> None:
        """Apply an event durably, then send what the coach says."""
        user, chat = update.effective_user, update.effective_chat
        assert user is not None and chat is not None
        key, update_id, language = user_key(user.id), update.update_id, user.language_code or ""
        try:
            applied = self.coach.apply(key, event, language, update_id=update_id, outbox=True)
        except Exception:
            if self.track_failures:
                self.failed.add(update_id)
            raise
        if applied is None:  # redelivered: applied before; send what a dead worker could not
            await self.resend(chat.id, key, update_id)
            return
        turn, rendered = applied.turn, applied.rendered
        locale = turn.session.locale
        if query is not None:
            if turn.stale:
                await self.sender.answer(query.id, chat.id, rendered[0].text)
                return
            await self.pressed(chat.id, query, rendered, locale)
        messages = [r for r in rendered if not r.edit]
        if len(messages) >= TYPING_FROM:
            await self.sender.typing(chat.id)
        await self.deliver(chat.id, key, update_id, enumerate(messages))
        for effect in turn.effects:
            if effect.kind == "export":
                await self.export(chat.id, key, locale)
            elif effect.kind == "chart":
                caption = self.coach.content.render(Reply("progress.caption"), locale).html
                await self.sender.photo(chat.id, self.coach.chart(effect.data, locale), caption)

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

    async def resend(self, chat_id: int, key: str, update_id: int) -> None:
        """Send the messages of an applied update that never left (a worker died)."""
        await self.deliver(chat_id, key, update_id, (
            (seq, Rendered(m["html"], tuple(tuple(map(tuple, row)) for row in m["buttons"]),
                           token=m["token"]))
            for seq, m in self.coach.store.unsent(key, update_id)))  # fmt: skip

    async def deliver(
        self, chat_id: int, key: str, update_id: int, messages: Iterable[tuple[int, Rendered]]
    ) -> None:
        """Send a turn's messages in order, keeping the outbox's account of each."""
        store = self.coach.store
        for seq, rendered in messages:
            store.sending(key, update_id, seq)
            if await self.sender.send(chat_id, rendered):
                store.sent(key, update_id, seq)

    async def export(self, chat_id: int, user: str, locale: str) -> None:
        """Send everything stored about the user as a JSON file."""
        doc = self.coach.store.export(user, self.coach.clock())
        body = json.dumps(doc, ensure_ascii=False, indent=2).encode()
        caption = self.coach.content.render(Reply("menu.export_caption"), locale).html
        await self.sender.document(chat_id, "repair-coach-export.json", body, caption)

    async def say(self, chat_id: int, key: str, locale: str = "") -> None:
        """Send one content text outside a turn (a group notice, an apology)."""
        loc = self.coach.locale_of(locale)
        await self.sender.send(chat_id, self.coach.content.render(Reply(key), loc))
