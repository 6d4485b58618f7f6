"""PTB's networking backend on aiohttp: the same Bot API calls at a fraction of httpx's CPU.

Measured here at 100 updates/s: httpx + httpcore cost about 4 ms of CPU per sendMessage
(connection-pool scans, anyio socket attributes); aiohttp's C parser and simple pool cost far
less, and the bot already depends on aiohttp for its webhook server.
Errors map onto PTB's: a timeout is TimedOut, any other transport failure is NetworkError, so
the sender's retry policy (sending.py) applies unchanged.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.request import BaseRequest, RequestData


def _pick(value: Any, default: float | None) -> float | None:
    return default if isinstance(value, type(BaseRequest.DEFAULT_NONE)) else value


class AiohttpRequest(BaseRequest):
    """One aiohttp session with a bounded connection pool."""

    def __init__(
        self, pool_size: int = 16, read_timeout: float | None = 10.0,
        connect_timeout: float | None = 10.0, write_timeout: float | None = 10.0,
    ) -> None:  # fmt: skip
        self.pool_size = pool_size
        self._read, self._connect, self._write = read_timeout, connect_timeout, write_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        """The default read timeout (PTB adds the long-polling timeout to it)."""
        return self._read

    async def initialize(self) -> None:
        """Open the session (inside the running event loop)."""
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self.pool_size, ttl_dns_cache=300)
            self._session = aiohttp.ClientSession(connector=connector)

    async def shutdown(self) -> None:
        """Close the session."""
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(  # noqa: PLR0917 - PTB's signature, positional as it calls it
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Make one Bot API request; return (status, body)."""
        if self._session is None:
            raise RuntimeError("AiohttpRequest is not initialised")
        timeout = aiohttp.ClientTimeout(
            total=None,
            sock_connect=_pick(connect_timeout, self._connect),
            sock_read=_pick(read_timeout, self._read),
            connect=_pick(pool_timeout, self._connect),  # includes waiting for a free connection
        )
        data: Any = None
        headers = {"User-Agent": self.USER_AGENT}
        if request_data is not None:
            files = request_data.multipart_data
            if not files:  # a JSON body: cheaper to build than form encoding, same meaning
                data = request_data.json_payload
                headers["Content-Type"] = "application/json"
            else:
                form = aiohttp.FormData()
                for name, value in request_data.json_parameters.items():
                    form.add_field(name, value)
                for name, part in files.items():
                    filename, content, *mime = part
                    form.add_field(name, content, filename=filename,
                                   content_type=mime[0] if mime else None)  # fmt: skip
                data = form
        try:
            async with self._session.request(
                method, url, data=data, timeout=timeout, headers=headers
            ) as response:
                return response.status, await response.read()
        except TimeoutError as err:
            raise TimedOut from err
        except aiohttp.ClientError as err:
            raise NetworkError(f"aiohttp.{type(err).__name__}: {err}") from err

    async def call(
        self, url: str, params: dict[str, Any], read_timeout: float | None = None
    ) -> Any:
        """POST one Bot API method as JSON and return its result: no object round trip.

        PTB's send_message builds objects for the keyboard and parses every answer into a
        Message; measured at 300 updates/s that was a quarter of the bot's CPU. Failures map onto
        PTB's public errors, exactly as PTB maps them (RetryAfter, Forbidden, BadRequest…).
        """
        body = {k: v for k, v in params.items() if v is not None}
        status, payload = await self.do_request(
            url, "POST", _JsonBody(body), read_timeout=read_timeout or self._read
        )
        return answer(status, payload)


class _JsonBody(RequestData):
    """A JSON body for do_request (RequestData's public face: json_payload, no files)."""

    def __init__(self, body: dict[str, Any]) -> None:
        super().__init__([])
        self._body = json.dumps(body, ensure_ascii=False).encode()

    @property
    def json_payload(self) -> bytes:
        return self._body

    @property
    def multipart_data(self) -> dict[str, Any]:
        return {}


class InDoubt(NetworkError):
    """An answer that is not the Bot API's (a proxy's error page, a cut body): the call may
    have been carried out, so it is not repeated."""


def answer(status: int, payload: bytes) -> Any:
    """The result of a Bot API answer, or the PTB error it stands for."""
    try:
        doc = json.loads(payload)
    except ValueError:
        doc = None
    if not isinstance(doc, dict):
        raise InDoubt(f"the Bot API answered {status} with a body that is not a JSON object")
    if doc.get("ok") is True and 200 <= status < 300:
        return doc.get("result")
    text = str(doc.get("description") or "Unknown error")
    parameters = doc.get("parameters") if isinstance(doc.get("parameters"), dict) else {}
    error: TelegramError
    if "retry_after" in parameters:
        error = RetryAfter(int(parameters["retry_after"]))
    elif "migrate_to_chat_id" in parameters:
        error = ChatMigrated(int(parameters["migrate_to_chat_id"]))
    elif status == 403:
        error = Forbidden(text)
    elif status in (401, 404):
        error = InvalidToken(text)
    elif status == 400:
        error = BadRequest(text)
    elif status == 409:
        error = Conflict(text)
    else:
        error = NetworkError(f"{text} ({status})")
    raise error
