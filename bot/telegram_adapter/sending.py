"""Rendered replies to Bot API calls: keyboards, long texts split, Telegram's failures handled."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

import httpx
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from dialogue.content import Rendered
from dialogue.replies import callback_data

log = logging.getLogger(__name__)
T = TypeVar("T")
MESSAGE_MAX = 4096
SAFE_TO_REPEAT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def split_html(html: str, limit: int = MESSAGE_MAX) -> list[str]:
    """Split a long message at paragraph breaks (then lines, then spaces), never inside a tag."""
    if len(html) <= limit:
        return [html]
    parts: list[str] = []
    current = ""
    for paragraph in html.split("\n\n"):
        piece = paragraph
        candidate = f"{current}\n\n{piece}" if current else piece
        if len(candidate) <= limit:
            current = candidate
            continue
        if current:
            parts.append(current)
        while len(piece) > limit:  # one paragraph longer than a message: cut at a line or space
            cut = max(piece.rfind("\n", 0, limit), piece.rfind(" ", 0, limit))
            cut = cut if cut > limit // 2 else limit
            parts.append(piece[:cut])
            piece = piece[cut:].lstrip()
        current = piece
    if current:
        parts.append(current)
    return parts


def keyboard(rendered: Rendered) -> InlineKeyboardMarkup | None:
    """Inline keyboard of a reply; callback data is '<token>|<button id>' (under 64 bytes)."""
    if not rendered.buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(label, callback_data=callback_data(rendered.token, bid))
             for bid, label in row]
            for row in rendered.buttons
        ]
    )  # fmt: skip


class Sender:
    """Every Bot API call of the coach, with Telegram's failures handled in one place."""

    def __init__(
        self,
        bot: Bot,
        on_blocked: Callable[[int], None],
        attempts: int = 5,
        backoff: float = 0.25,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.bot, self.on_blocked = bot, on_blocked
        self.attempts, self.backoff, self.sleep = attempts, backoff, sleep

    async def call(self, chat_id: int, make: Callable[[], Awaitable[T]]) -> T | None:
        """Call the Bot API: wait out 429s, back off on 5xx and unsent requests.

        A read timeout of a call that may have been carried out is not repeated, so a message
        is never sent twice; "message is not modified" is not an error; Forbidden (the user
        blocked the bot) marks them inactive. Returns None when the call did not happen.
        """
        for attempt in range(self.attempts):
            try:
                return await make()
            except RetryAfter as err:
                wait = err.retry_after
                await self.sleep(wait.total_seconds() if isinstance(wait, timedelta) else wait)
            except Forbidden:
                self.on_blocked(chat_id)
                return None
            except BadRequest as err:  # a subclass of NetworkError: caught first
                if "not modified" in err.message.lower():
                    return None
                log.error("Bot API refused a call: %s", err.message)
                return None
            except TimedOut as err:
                if not isinstance(err.__cause__, SAFE_TO_REPEAT):
                    log.warning("Bot API call timed out after it was sent; not repeated")
                    return None
                await self.sleep(self.backoff * 2**attempt)
            except NetworkError as err:
                log.warning("Bot API call failed (%s), attempt %d", type(err).__name__, attempt + 1)
                await self.sleep(self.backoff * 2**attempt)
        log.error("Bot API call given up after %d attempts", self.attempts)
        return None

    async def send(self, chat_id: int, rendered: Rendered) -> Message | None:
        """Send one reply, split if it is long; the keyboard goes on the last part."""
        parts = split_html(rendered.html)
        message = None
        for i, part in enumerate(parts):
            markup = keyboard(rendered) if i == len(parts) - 1 else None
            message = await self.call(
                chat_id,
                lambda part=part, markup=markup: self.bot.send_message(
                    chat_id, part, parse_mode=ParseMode.HTML, reply_markup=markup,
                    disable_web_page_preview=True,
                ),
            )  # fmt: skip
        return message

    async def edit_keyboard(
        self, chat_id: int, message_id: int, markup: InlineKeyboardMarkup | None
    ) -> None:
        """Replace (or remove) the keyboard of a message already sent."""
        await self.call(
            chat_id,
            lambda: self.bot.edit_message_reply_markup(chat_id, message_id, reply_markup=markup),
        )

    async def answer(self, query_id: str, chat_id: int, text: str | None = None) -> None:
        """Stop the button's spinner, with a short note if there is one."""
        await self.call(chat_id, lambda: self.bot.answer_callback_query(query_id, text=text))

    async def typing(self, chat_id: int) -> None:
        """Show "typing…" while a longer answer is on its way."""
        await self.call(chat_id, lambda: self.bot.send_chat_action(chat_id, ChatAction.TYPING))

    async def commands(self, per_locale: dict[str, list[tuple[str, str]]], default: str) -> None:
        """Register the command menu, for every locale and as the default."""
        for locale, cmds in per_locale.items():
            language = None if locale == default else locale
            await self.call(0, lambda cmds=cmds, language=language: self.bot.set_my_commands(
                cmds, language_code=language))  # fmt: skip


def chosen(markup: InlineKeyboardMarkup | None, data: str, tick: str) -> InlineKeyboardMarkup:
    """The pressed message's keyboard shrunk to the choice made, ticked (a second tap is stale)."""
    label = next(
        (b.text for row in (markup.inline_keyboard if markup else ()) for b in row
         if b.callback_data == data),
        "",
    )  # fmt: skip
    return InlineKeyboardMarkup([[InlineKeyboardButton(f"{tick} {label}", callback_data=data)]])


__all__ = ["Sender", "chosen", "keyboard", "split_html"]
