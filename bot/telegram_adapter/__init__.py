"""python-telegram-bot adapter: application, handlers, keyboards, sending, errors.

Exceptions: nothing of this package escapes a handler. Telegram's errors are handled in
sending.py (RetryAfter waits, 5xx and connection failures back off, Forbidden marks the user
inactive, "message is not modified" is ignored); a failed turn reaches the error handler,
which logs its type (never the user's words) and apologises to the user.
"""

import os

# Time periods as timedelta (PTB's announced default) rather than deprecated integer seconds.
os.environ.setdefault("PTB_TIMEDELTA", "1")
