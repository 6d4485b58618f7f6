"""Rendered replies to Bot API calls: keyboards, long texts split, Telegram's failures handled."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

import aiohttp
from telegram import Bot, InlineKeyboardMarkup
from telegram.constants import ChatAction
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter

from bot.telegram_adapter.request import AiohttpRequest, InDoubt
from bot.telegram_adapter.throttle import Throttle
from dialogue.content import Rendered
from dialogue.replies import callback_data

log = logging.getLogger(__name__)
T = TypeVar("T")
MESSAGE_MAX = 4096
# Failures before the request was written (no connection): safe to send again. Any other
# transport failure (a reset, a read timeout) may come after Telegram carried the call out.
SAFE_TO_REPEAT = (aiohttp.ConnectionTimeoutError, aiohttp.ClientConnectorError)
TRANSPORT = (aiohttp.ClientError, TimeoutError)


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


Markup = dict[str, list[list[dict[str, str]]]]


def keyboard(rendered: Rendered) -> Markup | None:
    """Inline keyboard of a reply; callback data is '<token>|<button id>' (under 64 bytes)."""
    if not rendered.buttons:
        return None
    return {
        "inline_keyboard": [
            [{"text": label, "callback_data": callback_data(rendered.token, bid)}
             for bid, label in row]
            for row in rendered.buttons
        ]
    }  # fmt: skip


class NotSent(Exception):
    """Telegram could not be reached after every attempt: the message did not go out."""


class Sender:
    """Every Bot API call of the coach, with Telegram's failures handled in one place."""

    def __init__(
        self,
        bot: Bot,
        on_blocked: Callable[[int], Awaitable[None]],
        attempts: int = 5,
        backoff: float = 0.25,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        *,
        throttle: Throttle | None = None,
    ) -> None:
        self.bot, self.on_blocked = bot, on_blocked
        self.attempts, self.backoff, self.sleep = attempts, backoff, sleep
        self.throttle = throttle or Throttle(sleep=sleep)

    async def call(
        self, chat_id: int, make: Callable[[], Awaitable[T]], message: bool = False, *,
        later: bool = False, paid: bool = False, paced: bool = False,
    ) -> T | None:  # fmt: skip
        """Call the Bot API: wait out 429s, back off on 5xx and unsent requests.

        A read timeout of a call that may have been carried out is not repeated, so a message
        is never sent twice; "message is not modified" is not an error; Forbidden (the user
        blocked the bot) marks them inactive. Returns None when the call did not happen.
        """
        for attempt in range(self.attempts):
            if attempt or not paid:  # `paid`: the first attempt's budget is reserved already
                await self.throttle.wait(chat_id, message, paced)
            try:
                return await make()
            except RetryAfter as err:
                wait = err.retry_after
                await self.throttle.pause(
                    wait.total_seconds() if isinstance(wait, timedelta) else wait
                )
            except Forbidden:
                await self.on_blocked(chat_id)
                return None
            except BadRequest as err:  # a subclass of NetworkError: caught first
                if "not modified" in err.message.lower():
                    return None
                log.error("Bot API refused a call: %s", err.message)
                return None
            except NetworkError as err:  # TimedOut included
                cause = err.__cause__
                if isinstance(err, InDoubt) or (
                    isinstance(cause, TRANSPORT) and not isinstance(cause, SAFE_TO_REPEAT)
                ):
                    log.warning("Bot API call failed after it was sent (%s): in doubt, not "
                                "repeated", type(cause or err).__name__)  # fmt: skip
                    return None
                log.warning("Bot API call failed (%s), attempt %d", type(err).__name__, attempt + 1)
                await self.sleep(self.backoff * 2**attempt)
        log.error("Bot API call given up after %d attempts", self.attempts)
        if later:
            raise NotSent
        return None

    async def post(self, method: str, params: dict[str, Any]) -> Any:
        """Call a Bot API method as JSON through the bot's request backend; return the result."""
        request: AiohttpRequest = self.bot.request  # type: ignore[assignment]
        return await request.call(f"{self.bot.base_url}/{method}", params)

    async def send(
        self, chat_id: int, rendered: Rendered, later: bool = False, paid: bool = False,
        paced: bool = False,
    ) -> Any:  # fmt: skip
        """Send one reply, split if it is long; the keyboard goes on the last part.

        `later`: raise NotSent when Telegram could not be reached after every attempt (the
        caller keeps the message to send later) instead of giving it up. `paid`: the caller
        reserved the first part's budget (Throttle.wait) before claiming the message."""
        parts = split_html(rendered.html)
        message = None
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            params = {"chat_id": chat_id, "text": part, "parse_mode": "HTML",
                      "link_preview_options": {"is_disabled": True},
                      "reply_markup": keyboard(rendered) if last else None}  # fmt: skip
            message = await self.call(
                chat_id, lambda params=params: self.post("sendMessage", params), True,
                later=later and i == 0, paid=paid and i == 0, paced=paced,
            )  # fmt: skip
        return message

    async def document(self, chat_id: int, filename: str, body: bytes, caption: str) -> None:
        """Send a file (an export) with an HTML caption."""
        await self.call(
            chat_id,
            lambda: self.bot.send_document(
                chat_id, document=body, filename=filename, caption=caption, parse_mode="HTML"
            ),
            message=True,
        )

    async def photo(self, chat_id: int, png: bytes, caption: str) -> None:
        """Send a picture (the progress chart) with an HTML caption."""
        await self.call(
            chat_id,
            lambda: self.bot.send_photo(chat_id, photo=png, caption=caption, parse_mode="HTML"),
            message=True,
        )

    async def edit_keyboard(self, chat_id: int, message_id: int, markup: Markup | None) -> None:
        """Replace (or remove) the keyboard of a message already sent."""
        params = {"chat_id": chat_id, "message_id": message_id,
                  "reply_markup": markup or {"inline_keyboard": []}}  # fmt: skip
        await self.call(chat_id, lambda: self.post("editMessageReplyMarkup", params))

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


def chosen(markup: InlineKeyboardMarkup | None, data: str, tick: str) -> Markup:
    """The pressed message's keyboard shrunk to the choice made, ticked (a second tap is stale)."""
    label = next(
        (b.text for row in (markup.inline_keyboard if markup else ()) for b in row
         if b.callback_data == data),
        "",
    )  # fmt: skip
    return {"inline_keyboard": [[{"text": f"{tick} {label}", "callback_data": data}]]}


__all__ = ["NotSent", "Sender", "Throttle", "chosen", "keyboard", "split_html"]
