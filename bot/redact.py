"""The bot token kept out of every log line: a filter on the handlers, as a backstop.

The code never logs the token or an exception's message, but a library may (a URL in an error,
a malformed answer quoted whole). Every record passing a handler with this filter has the token
replaced, in its message, its arguments and its exception text.
"""

from __future__ import annotations

import logging

MASK = "<token>"


class RedactToken(logging.Filter):
    """Replace the token (and its secret half) in every record."""

    def __init__(self, token: str) -> None:
        super().__init__()
        secrets = {token, token.partition(":")[2]} if token else set()
        self.secrets = sorted((s for s in secrets if len(s) >= 8), key=len, reverse=True)

    def scrub(self, text: str) -> str:
        """The text with every secret masked."""
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        """Mask the record in place; never drop it."""
        if not self.secrets:
            return True
        record.msg = self.scrub(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = self.scrub(record.stack_info)
        return True


def install(token: str) -> None:
    """Put the filter on every handler of the root logger."""
    redact = RedactToken(token)
    for handler in logging.getLogger().handlers:
        handler.addFilter(redact)
