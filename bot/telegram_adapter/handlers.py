"""Handlers: each turns an Update into an Event and sends what the coach says."""

from __future__ import annotations

import asyncio
import logging
import traceback

from telegram import Message, Update
from telegram.constants import ChatMemberStatus
from telegram.ext import ContextTypes

from bot.geo import zone_at
from bot.telegram_adapter.runtime import Runtime, user_key
from dialogue.events import Edited, Located, Press, Unsupported, parse_text
from dialogue.replies import parse_callback

log = logging.getLogger(__name__)
ATTACHMENTS = (
    "sticker", "photo", "voice", "video", "video_note", "animation", "audio", "document",
    "location", "venue", "contact", "poll", "dice", "game", "story",
)  # fmt: skip


def runtime(context: ContextTypes.DEFAULT_TYPE) -> Runtime:
    """The shared runtime."""
    return context.bot_data["runtime"]


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Take a text or a command as the user's next turn."""
    message: Message = update.effective_message  # type: ignore[assignment]
    await runtime(context).turn(update, parse_text(message.text or ""))


async def on_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Take a button press as the user's next turn."""
    query = update.callback_query
    assert query is not None
    token, button = parse_callback(query.data or "")
    await runtime(context).turn(update, Press(button, token or ""), query)


async def on_location(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Take a shared location as the user's time zone (resolved offline)."""
    message = update.effective_message
    where = message.location if message else None
    tz = await asyncio.to_thread(zone_at, where.latitude, where.longitude) if where else ""
    await runtime(context).turn(update, Located(tz))


async def on_unsupported(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer a sticker, photo, voice note or anything but text kindly."""
    message = update.effective_message
    kind = next((a for a in ATTACHMENTS if message and getattr(message, a, None)), "other")
    await runtime(context).turn(update, Unsupported(kind))


async def on_edited(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Say how an edited message is treated."""
    await runtime(context).turn(update, Edited())


async def on_group(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Say once, in a group or channel, that the coach works only in private."""
    chat = update.effective_chat
    store = runtime(context).coach.store
    if chat is not None and await asyncio.to_thread(store.first_notice, chat.id):
        user = update.effective_user
        await runtime(context).say(chat.id, "common.group_only", user.language_code if user else "")


async def on_member(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Mark a user inactive when they block the bot, active when they come back."""
    change = update.my_chat_member
    if change is None or change.chat.type != "private":
        return
    status = change.new_chat_member.status
    active = status not in (ChatMemberStatus.BANNED, ChatMemberStatus.LEFT)
    await asyncio.to_thread(
        runtime(context).coach.store.set_active, user_key(change.chat.id), active
    )


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log what failed (never what the user wrote); the update stays stored and is retried."""
    err = context.error
    frames = "".join(traceback.format_tb(err.__traceback__)) if err else ""
    # The type and the frames only: an exception's message could quote what a user wrote.
    log.error("turn failed: %s\n%s", type(err).__name__, frames)
    if isinstance(update, Update):
        runtime(context).failed.add(update.update_id)
