"""What the handlers share: the coach, the sender, and the turn as Telegram sees it."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field

from telegram import CallbackQuery, Update

from bot.coach import Coach
from bot.telegram_adapter.sending import Sender, chosen, keyboard
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

    async def turn(self, update: Update, event: Event, query: CallbackQuery | None = None) -> None:
        """Apply an event durably, then send what the coach says."""
        user, chat = update.effective_user, update.effective_chat
        assert user is not None and chat is not None
        key = user_key(user.id)
        try:
            turn = self.coach.turn(key, event, user.language_code or "", update.update_id)
        except Exception:
            self.failed.add(update.update_id)
            raise
        if turn is None:  # a redelivered update: applied, answered and replied to before
            return
        rendered = self.coach.render(turn.replies, turn.session.locale)
        if query is not None:
            if turn.stale:
                await self.sender.answer(query.id, chat.id, rendered[0].text)
                return
            await self.sender.answer(query.id, chat.id)
            message = query.message
            edits = [r for r in rendered if r.edit]
            if message is not None and message.message_id and edits:
                await self.sender.edit_keyboard(chat.id, message.message_id, keyboard(edits[-1]))
                rendered = [r for r in rendered if not r.edit]
            elif message is not None and query.data:
                tick = self.coach.content.locale(turn.session.locale).label("ui.tick")
                reply_markup = getattr(message, "reply_markup", None)
                await self.sender.edit_keyboard(
                    chat.id, message.message_id, chosen(reply_markup, query.data, tick)
                )
        if len(rendered) >= TYPING_FROM:
            await self.sender.typing(chat.id)
        for r in rendered:
            await self.sender.send(chat.id, r)
        for effect in turn.effects:
            if effect.kind == "export":
                await self.export(chat.id, key, turn.session.locale)
            elif effect.kind == "chart":
                png = self.coach.chart(effect.data, turn.session.locale)
                caption = self.coach.content.render(Reply("progress.caption"), turn.session.locale)
                await self.sender.photo(chat.id, png, caption.html)

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
