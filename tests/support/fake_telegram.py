"""A fake Telegram Bot API server for tests and benchmarks: real HTTP on 127.0.0.1.

It runs in a thread of its own (its own event loop), so a bot in the test's loop or in
another process talks to it over real sockets. It checks what Telegram checks (HTML entities,
text length, callback data, keyboard shape, message-not-modified) and answers with Telegram's
error JSON; faults (429, 403, 400, 5xx, slow replies, dropped connections) can be injected.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import itertools
import json
import math
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

TOKEN = "123456:TEST-token"
BOT = {"id": 123456, "is_bot": True, "first_name": "Coach", "username": "repair_coach_bot"}
ALLOWED = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre",
           "blockquote", "tg-spoiler", "span", "tg-emoji"}  # fmt: skip


class TelegramError(Exception):
    """An error answer: status code and description, as Telegram words them."""

    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code, self.description, self.retry_after = code, description, retry_after


_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-zA-Z-]+=\"[^\"]*\")*)\s*>|<|>")
_ENTITY = re.compile(r"&(?:lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);")


def parse_html(text: str) -> str:
    """The visible text of an HTML message, or Telegram's error (allowed tags, balanced)."""
    stack: list[str] = []
    visible: list[str] = []
    pos = 0
    for m in _TAG.finditer(text):
        visible.append(text[pos : m.start()])
        pos = m.end()
        if m.group(2) is None:
            raise TelegramError(
                400,
                f"Bad Request: can't parse entities: Unexpected {m.group(0)!r} at byte offset {m.start()}",
            )
        closing, tag = m.group(1) == "/", m.group(2).lower()
        if tag not in ALLOWED:
            raise TelegramError(
                400,
                f'Bad Request: can\'t parse entities: Unsupported start tag "{tag}" at byte offset {m.start()}',
            )
        if closing:
            if not stack or stack.pop() != tag:
                raise TelegramError(
                    400,
                    f"Bad Request: can't parse entities: Unexpected end tag at byte offset {m.start()}",
                )
        else:
            stack.append(tag)
    visible.append(text[pos:])
    if stack:
        raise TelegramError(
            400,
            f"Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"{stack[-1]}\"",
        )
    plain = "".join(visible)
    if "&" in _ENTITY.sub("", plain):
        raise TelegramError(400, "Bad Request: can't parse entities: Character '&' is reserved")
    return html.unescape(plain)


def check_markup(markup: Any) -> dict[str, Any] | None:
    """A reply_markup as Telegram would accept it, or its error."""
    if markup in (None, ""):
        return None
    if isinstance(markup, str):
        markup = json.loads(markup)
    rows = markup.get("inline_keyboard") if isinstance(markup, dict) else None
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise TelegramError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    for row in rows:
        for b in row:
            if not isinstance(b, dict) or not b.get("text"):
                raise TelegramError(
                    400,
                    "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard",
                )
            data = b.get("callback_data")
            if data is not None and not 1 <= len(data.encode()) <= 64:
                raise TelegramError(400, "Bad Request: BUTTON_DATA_INVALID")
    return markup


@dataclass
class Fault:
    """A fault for the next matching call(s)."""

    method: str | None  # None: any method
    status: int = 500  # 429, 403, 400, 5xx; 0: only the delay / drop
    count: int = 1
    retry_after: int = 1
    delay: float = 0.0
    drop: bool = False  # close the connection without an answer, before carrying it out
    drop_after: bool = False  # carry the call out, then close the connection without an answer
    malformed: bool = False  # carry the call out, then answer a body that is not JSON


class Bucket:
    """A token bucket: `capacity` at once, refilled at `rate` a second."""

    def __init__(self, capacity: float, rate: float) -> None:
        self.capacity, self.rate = capacity, rate
        self.level, self.at = capacity, time.monotonic()

    def take(self) -> float:
        """Take one token: 0.0, or the seconds until one is there (nothing taken)."""
        now = time.monotonic()
        self.level = min(self.capacity, self.level + (now - self.at) * self.rate)
        self.at = now
        if self.level >= 1.0:
            self.level -= 1.0
            return 0.0
        return (1.0 - self.level) / self.rate


class Limits:
    """Telegram's limits on sending, enforced as Telegram does: a 429 with retry_after."""

    MESSAGES = ("sendMessage", "sendPhoto", "sendDocument")

    def __init__(self, rate: float, chat_burst: int, chat_rate: float = 1.0) -> None:
        self.overall = Bucket(rate, rate)  # a second's worth at once, then `rate` a second
        self.chat_burst, self.chat_rate = chat_burst, chat_rate
        self.chats: dict[int, Bucket] = {}
        self.refused = 0

    def check(self, method: str, params: dict[str, Any]) -> int:
        """0 when the call may go, else the retry_after to answer (whole seconds, as Telegram)."""
        if method not in self.MESSAGES:
            return 0
        chat = int(params.get("chat_id", 0))
        bucket = self.chats.setdefault(chat, Bucket(self.chat_burst, self.chat_rate))
        wait = bucket.take() or self.overall.take()
        if wait:
            self.refused += 1
            return max(1, math.ceil(wait))
        return 0


@dataclass
class Sent:
    """A message the bot sent, as it now stands."""

    chat_id: int
    message_id: int
    text: str  # visible text after entity parsing
    html: str
    markup: dict[str, Any] | None
    at: float = field(default_factory=time.monotonic)

    def buttons(self) -> list[tuple[str, str]]:
        """(label, callback data) of every button, row after row."""
        rows = (self.markup or {}).get("inline_keyboard", [])
        return [(b["text"], b.get("callback_data", "")) for row in rows for b in row]

    def data_for(self, label_or_id: str) -> str:
        """The callback data of a button named by label or by id."""
        for label, data in self.buttons():
            if label_or_id in (label, data.partition("|")[2]) or label.endswith(" " + label_or_id):
                return data
        raise KeyError(f"no button {label_or_id!r} in {self.buttons()}")


class FakeTelegram:
    """The fake server. Start with start(); inject updates; read what the bot did."""

    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.lock = threading.RLock()
        self.updates: list[dict[str, Any]] = []
        self.update_ids = itertools.count(1)
        self.message_ids = itertools.count(1000)
        self.query_ids = itertools.count(1)
        self.sent: list[Sent] = []
        self.messages: dict[tuple[int, int], Sent] = {}
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.errors: list[tuple[str, int, str]] = []
        self.faults: list[Fault] = []
        self.blocked: set[int] = set()
        self.forbidden: list[int] = []  # chats whose call was refused: the user blocked the bot
        self.open_queries: set[str] = set()
        self.commands: dict[str, Any] = {}
        self.files: list[tuple[int, bytes]] = []  # (chat, content) of every file the bot sent
        self.webhook: dict[str, Any] = {}
        self.waiting: dict[int, list[float]] = {}  # chat -> injection times not yet answered
        self.latencies: list[float] = []  # injection of a message to the bot's next sendMessage
        self.limits: Limits | None = None  # set_limits(): 429s as Telegram answers them
        self.loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> str:
        """Serve on 127.0.0.1 in a thread; return the base URL (without /bot<token>)."""
        ready = threading.Event()

        def serve() -> None:
            self.loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self.loop)
            self.loop.run_until_complete(self._start())
            ready.set()
            self.loop.run_forever()
            pending = asyncio.all_tasks(self.loop)
            for task in pending:
                task.cancel()
            self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            self.loop.close()

        self._thread = threading.Thread(target=serve, name="fake-telegram", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("fake Telegram did not start")
        return self.base_url

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _start(self) -> None:
        self._wake = asyncio.Event()
        app = web.Application(client_max_size=64 << 20)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    def stop(self) -> None:
        """Stop serving."""
        if self.loop and self._thread:
            if self._runner:
                done = asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self.loop)
                done.result(10)
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(10)

    def _notify(self) -> None:
        if self.loop and self._wake:
            self.loop.call_soon_threadsafe(self._wake.set)

    # -- injecting what users do ----------------------------------------------------------------

    def user(self, user_id: int, language: str = "en") -> dict[str, Any]:
        return {
            "id": user_id,
            "is_bot": False,
            "first_name": f"User{user_id}",
            "language_code": language,
        }

    def chat(self, chat_id: int, kind: str = "private") -> dict[str, Any]:
        if kind == "private":
            return {"id": chat_id, "type": "private", "first_name": f"User{chat_id}"}
        return {"id": chat_id, "type": kind, "title": "A group"}

    def push(self, update: dict[str, Any]) -> int:
        """Queue an update (given without update_id); return its id."""
        with self.lock:
            uid = next(self.update_ids)
            update = {"update_id": uid, **update}
            self.updates.append(update)
            if "message" in update:
                chat = update["message"]["chat"]["id"]
                self.waiting.setdefault(chat, []).append(time.monotonic())
        self._notify()
        return uid

    def _message(self, user_id: int, chat: dict[str, Any], **body: Any) -> dict[str, Any]:
        return {"message_id": next(self.message_ids), "date": int(time.time()), "chat": chat,
                "from": self.user(user_id), **body}  # fmt: skip

    def text(self, user_id: int, text: str, language: str = "en") -> int:
        """The user writes a message (a /command too)."""
        body: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            body["entities"] = [
                {"type": "bot_command", "offset": 0, "length": len(text.split(maxsplit=1)[0])}
            ]
        msg = self._message(user_id, self.chat(user_id), **body)
        msg["from"]["language_code"] = language
        return self.push({"message": msg})

    def press(self, user_id: int, message: Sent, button: str) -> int:
        """The user taps a button (by label or id) on a message the bot sent."""
        data = message.data_for(button)
        return self.press_data(user_id, message, data)

    def press_data(self, user_id: int, message: Sent, data: str) -> int:
        """The user taps a button with exactly this callback data (forged data included)."""
        qid = str(next(self.query_ids))
        with self.lock:
            self.open_queries.add(qid)
        bot_msg = {"message_id": message.message_id, "date": int(time.time()),
                   "chat": self.chat(message.chat_id), "from": BOT, "text": message.text}  # fmt: skip
        if message.markup:
            bot_msg["reply_markup"] = message.markup
        query = {"id": qid, "from": self.user(user_id), "chat_instance": str(user_id),
                 "data": data, "message": bot_msg}  # fmt: skip
        return self.push({"callback_query": query})

    def sticker(self, user_id: int) -> int:
        sticker = {"file_id": "s1", "file_unique_id": "u1", "width": 512, "height": 512,
                   "is_animated": False, "is_video": False, "type": "regular"}  # fmt: skip
        return self.push({"message": self._message(user_id, self.chat(user_id), sticker=sticker)})

    def photo(self, user_id: int) -> int:
        photo = [{"file_id": "p1", "file_unique_id": "pu1", "width": 90, "height": 90}]
        return self.push({"message": self._message(user_id, self.chat(user_id), photo=photo)})

    def voice(self, user_id: int) -> int:
        voice = {"file_id": "v1", "file_unique_id": "vu1", "duration": 3}
        return self.push({"message": self._message(user_id, self.chat(user_id), voice=voice)})

    def location(self, user_id: int) -> int:
        loc = {"latitude": 52.5, "longitude": 13.4}
        return self.push({"message": self._message(user_id, self.chat(user_id), location=loc)})

    def edited(self, user_id: int, text: str) -> int:
        msg = self._message(user_id, self.chat(user_id), text=text, edit_date=int(time.time()))
        return self.push({"edited_message": msg})

    def group_text(self, chat_id: int, user_id: int, text: str, kind: str = "group") -> int:
        return self.push({"message": self._message(user_id, self.chat(chat_id, kind), text=text)})

    def member(self, user_id: int, status: str) -> int:
        """The user blocks ("kicked") or unblocks ("member") the bot."""
        with self.lock:
            (self.blocked.add if status == "kicked" else self.blocked.discard)(user_id)
        old = "member" if status == "kicked" else "kicked"
        change = {"chat": self.chat(user_id), "from": self.user(user_id), "date": int(time.time()),
                  "old_chat_member": {"user": BOT, "status": old, "until_date": 0},
                  "new_chat_member": {"user": BOT, "status": status, "until_date": 0}}  # fmt: skip
        return self.push({"my_chat_member": change})

    def set_limits(self, rate: float, chat_burst: int = 3, chat_rate: float = 1.0) -> None:
        """Enforce Telegram's sending limits: `rate` messages a second overall, a chat
        `chat_burst` at once and then `chat_rate` a second; beyond them, 429 and retry_after."""
        with self.lock:
            self.limits = Limits(rate, chat_burst, chat_rate)

    def fail(self, method: str | None, status: int = 500, **kw: Any) -> None:
        """Inject a fault for the next matching call(s)."""
        with self.lock:
            self.faults.append(Fault(method, status, **kw))

    # -- reading what the bot did ---------------------------------------------------------------

    def to(self, chat_id: int) -> list[Sent]:
        """Messages sent to a chat, in order."""
        with self.lock:
            return [m for m in self.sent if m.chat_id == chat_id]

    def last(self, chat_id: int) -> Sent:
        """The latest message to a chat, as it now stands (after edits)."""
        with self.lock:
            m = self.to(chat_id)[-1]
            return self.messages[(chat_id, m.message_id)]

    def _checks(self, check: Callable[[], Any], timeout: float) -> Iterator[Any]:
        """check()'s result, computed under the lock (and yielded outside it, so the server
        is not held up while the caller waits), until the deadline; then TimeoutError."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                result = check()
            yield result
        raise TimeoutError("the bot did not do what was expected in time")

    def wait_until(self, check: Callable[[], Any], timeout: float = 15.0) -> Any:
        """Block until check() is truthy (for tests whose bot runs elsewhere)."""
        for result in self._checks(check, timeout):
            if result:
                return result
            time.sleep(0.01)
        return None

    async def until(self, check: Callable[[], Any], timeout: float = 15.0) -> Any:
        """Await until check() is truthy (for a bot in the caller's event loop)."""
        for result in self._checks(check, timeout):
            if result:
                return result
            await asyncio.sleep(0.01)
        return None

    def calls_for(self, chat_id: int) -> list[tuple[str, dict[str, Any]]]:
        """Every call made for a chat, in order."""
        with self.lock:
            return [(m, p) for m, p in self.calls if str(p.get("chat_id")) == str(chat_id)]

    def calls_of(self, method: str) -> list[dict[str, Any]]:
        with self.lock:
            return [p for m, p in self.calls if m == method]

    # -- the API --------------------------------------------------------------------------------

    async def _params(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            body = await request.read()
            return json.loads(body) if body else {}
        if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            return {k: (v if isinstance(v, str) else v.file.read()) for k, v in form.items()}
        return dict(request.query)

    async def _handle(self, request: web.Request) -> web.StreamResponse:  # noqa: PLR0911 - one return per fault
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        params = await self._params(request)
        if self.limits is not None:
            with self.lock:
                retry = self.limits.check(method, params)
            if retry:
                return self._error(method, TelegramError(429, _describe(429), retry))
        fault = self._take_fault(method)
        if fault:
            if fault.delay:
                await asyncio.sleep(fault.delay)
            if fault.drop:
                assert request.transport is not None
                request.transport.close()
                return web.Response(status=500)
            if fault.status:
                return self._error(
                    method, TelegramError(fault.status, _describe(fault.status), fault.retry_after)
                )
        try:
            result = await getattr(self, f"api_{method}")(params)
        except AttributeError:
            return self._error(method, TelegramError(404, "Not Found"))
        except TelegramError as err:
            return self._error(method, err)
        with self.lock:
            self.calls.append((method, params))
        if fault and fault.drop_after:
            assert request.transport is not None
            request.transport.close()
            return web.Response(status=500)
        if fault and fault.malformed:
            return web.Response(status=502, text="<html>Bad Gateway at /bot" + self.token)
        return web.json_response({"ok": True, "result": result})

    def _take_fault(self, method: str) -> Fault | None:
        with self.lock:
            for f in self.faults:
                if f.method == method or (f.method is None and method != "getUpdates"):
                    f.count -= 1
                    if f.count <= 0:
                        self.faults.remove(f)
                    return f
        return None

    def _error(self, method: str, err: TelegramError) -> web.Response:
        with self.lock:
            self.errors.append((method, err.code, err.description))
        body: dict[str, Any] = {"ok": False, "error_code": err.code, "description": err.description}
        if err.code == 429:
            body["parameters"] = {"retry_after": err.retry_after}
        return web.json_response(body, status=err.code)

    async def api_getMe(self, p: dict[str, Any]) -> dict[str, Any]:
        return {**BOT, "can_join_groups": True, "can_read_all_group_messages": False,
                "supports_inline_queries": False}  # fmt: skip

    async def api_getUpdates(self, p: dict[str, Any]) -> list[dict[str, Any]]:
        offset, limit = int(p.get("offset") or 0), int(p.get("limit") or 100)
        timeout = float(p.get("timeout") or 0)
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                if offset:
                    self.updates = [u for u in self.updates if u["update_id"] >= offset]
                ready = [u for u in self.updates if u["update_id"] >= offset][:limit]
                if ready or time.monotonic() >= deadline:
                    return ready
                assert self._wake is not None
                self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), max(0.0, deadline - time.monotonic()))

    async def api_setWebhook(self, p: dict[str, Any]) -> bool:
        self.webhook = dict(p)
        return True

    async def api_deleteWebhook(self, p: dict[str, Any]) -> bool:
        self.webhook = {}
        return True

    async def api_setMyCommands(self, p: dict[str, Any]) -> bool:
        commands = p.get("commands")
        commands = json.loads(commands) if isinstance(commands, str) else commands
        for c in commands:
            if not (1 <= len(c["command"]) <= 32 and 1 <= len(c["description"]) <= 256):
                raise TelegramError(400, "Bad Request: BOT_COMMAND_INVALID")
        self.commands[p.get("language_code") or ""] = commands
        return True

    async def api_sendChatAction(self, p: dict[str, Any]) -> bool:
        self._reachable(int(p["chat_id"]))
        return True

    async def api_answerCallbackQuery(self, p: dict[str, Any]) -> bool:
        with self.lock:
            if p["callback_query_id"] not in self.open_queries:
                raise TelegramError(
                    400,
                    "Bad Request: query is too old and response timeout expired or query ID is invalid",
                )
            self.open_queries.discard(p["callback_query_id"])
        if len(p.get("text") or "") > 200:
            raise TelegramError(400, "Bad Request: MESSAGE_TOO_LONG")
        return True

    def _reachable(self, chat_id: int) -> None:
        if chat_id in self.blocked:
            with self.lock:
                self.forbidden.append(chat_id)
            raise TelegramError(403, "Forbidden: bot was blocked by the user")

    def _visible(self, p: dict[str, Any]) -> str:
        text = str(p.get("text", ""))
        visible = parse_html(text) if p.get("parse_mode") == "HTML" else text
        if not visible.strip():
            raise TelegramError(400, "Bad Request: message text is empty")
        if len(visible) > 4096:
            raise TelegramError(400, "Bad Request: message is too long")
        return visible

    async def api_sendMessage(self, p: dict[str, Any]) -> dict[str, Any]:
        chat_id = int(p["chat_id"])
        self._reachable(chat_id)
        visible = self._visible(p)
        markup = check_markup(p.get("reply_markup"))
        with self.lock:
            sent = Sent(chat_id, next(self.message_ids), visible, str(p["text"]), markup)
            self.sent.append(sent)
            if self.waiting.get(chat_id):
                self.latencies.append(sent.at - self.waiting[chat_id].pop(0))
            self.messages[(chat_id, sent.message_id)] = sent
        return self._as_message(sent)

    async def api_sendPhoto(self, p: dict[str, Any]) -> dict[str, Any]:
        return await self._send_file(p, "photo")

    async def api_sendDocument(self, p: dict[str, Any]) -> dict[str, Any]:
        return await self._send_file(p, "document")

    async def _send_file(self, p: dict[str, Any], kind: str) -> dict[str, Any]:
        chat_id = int(p["chat_id"])
        self._reachable(chat_id)
        if not p.get(kind):
            raise TelegramError(400, f"Bad Request: there is no {kind} in the request")
        with self.lock:
            self.files.append((chat_id, p[kind]))
        with self.lock:
            sent = Sent(chat_id, next(self.message_ids), f"<{kind}>", "", None)
            self.sent.append(sent)
            self.messages[(chat_id, sent.message_id)] = sent
        return self._as_message(sent)

    def _editable(self, p: dict[str, Any]) -> Sent:
        key = (int(p["chat_id"]), int(p["message_id"]))
        with self.lock:
            if key not in self.messages:
                raise TelegramError(400, "Bad Request: message to edit not found")
            return self.messages[key]

    async def api_editMessageReplyMarkup(self, p: dict[str, Any]) -> dict[str, Any]:
        msg = self._editable(p)
        markup = check_markup(p.get("reply_markup"))
        with self.lock:
            if markup == msg.markup or (not markup and not msg.markup):
                raise TelegramError(
                    400,
                    "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message",
                )
            msg.markup = markup
        return self._as_message(msg)

    async def api_editMessageText(self, p: dict[str, Any]) -> dict[str, Any]:
        msg = self._editable(p)
        visible = self._visible(p)
        markup = check_markup(p.get("reply_markup"))
        with self.lock:
            if visible == msg.text and markup == msg.markup:
                raise TelegramError(
                    400,
                    "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message",
                )
            msg.text, msg.html, msg.markup = visible, str(p["text"]), markup
        return self._as_message(msg)

    def _as_message(self, sent: Sent) -> dict[str, Any]:
        out: dict[str, Any] = {"message_id": sent.message_id, "date": int(time.time()),
                               "chat": self.chat(sent.chat_id), "from": BOT, "text": sent.text}  # fmt: skip
        if sent.markup:
            out["reply_markup"] = sent.markup
        return out


def _describe(status: int) -> str:
    return {429: "Too Many Requests: retry after", 403: "Forbidden: bot was blocked by the user",
            400: "Bad Request: injected", 500: "Internal Server Error",
            502: "Bad Gateway"}.get(status, "Error")  # fmt: skip


class Chat:
    """One simulated user talking to the bot through the fake server."""

    def __init__(self, fake: FakeTelegram, user_id: int) -> None:
        self.fake, self.id = fake, user_id

    def count(self) -> int:
        return len(self.fake.to(self.id))

    async def settle(self, before: int, quiet: float = 0.15, timeout: float = 15.0) -> list[Sent]:
        """Wait for new messages, then for a moment without more; return the new ones."""
        await self.fake.until(lambda: self.count() > before, timeout)
        last, since = self.count(), time.monotonic()
        while time.monotonic() - since < quiet:
            await asyncio.sleep(0.02)
            if self.count() != last:
                last, since = self.count(), time.monotonic()
        return self.fake.to(self.id)[before:]

    async def say(self, text: str) -> list[Sent]:
        """Write a message; return the bot's answer."""
        before = self.count()
        self.fake.text(self.id, text)
        return await self.settle(before)

    def keyboard(self) -> Sent:
        """The newest message that has buttons, as it stands now."""
        with self.fake.lock:
            for m in reversed(self.fake.to(self.id)):
                current = self.fake.messages[(self.id, m.message_id)]
                if current.markup:
                    return current
        raise AssertionError("no message with buttons")

    async def tap(self, button: str, expect_messages: bool = True) -> list[Sent]:
        """Tap a button on the newest keyboard; return new messages (or [] for an edit)."""
        before, calls = self.count(), len(self.fake.calls)
        self.fake.press(self.id, self.keyboard(), button)
        if expect_messages:
            return await self.settle(before)
        await self.fake.until(lambda: len(self.fake.calls) > calls + 1)
        await asyncio.sleep(0.05)
        return []

    def text(self) -> str:
        """Everything the bot said to this user, visible text."""
        return "\n".join(m.text for m in self.fake.to(self.id))
