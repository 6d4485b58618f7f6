"""Encryption at rest of every free-text field: Fernet, several keys for rotation.

With no key, text is stored as it is (and `repair-coach run` warns once). With keys, the first
one seals new data and every one of them opens old data; `repair-coach rekey` re-seals all rows
with the first key, so an old key can then be retired.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

PREFIX = "f1:"  # a value sealed with the configured keys; anything else is plain text
USER_PREFIX = "u1:"  # a value sealed with its user's own key (itself sealed with the configured)


class SealError(ValueError):
    """A sealed value cannot be opened: no key, or none of the keys fits."""


class Sealer:
    """Seals and opens stored text with the configured keys (or passes it through)."""

    def __init__(self, keys: list[str] | None = None) -> None:
        self.keys = [k.strip() for k in keys or [] if k.strip()]
        fernets = []
        for n, key in enumerate(self.keys, 1):
            try:
                fernets.append(Fernet(key))
            except (ValueError, TypeError) as err:  # never the key itself in the message
                raise SealError(f"key {n} is not a Fernet key (32 url-safe base64 bytes)") from err
        self._fernet = MultiFernet(fernets) if fernets else None

    @classmethod
    def from_setting(cls, value: str) -> Sealer:
        """Keys from a setting: comma-separated, newest first."""
        return cls(value.split(",") if value else [])

    @property
    def active(self) -> bool:
        """Whether stored text is encrypted."""
        return self._fernet is not None

    def seal(self, text: str) -> str:
        """Encrypt with the newest key (or return the text unchanged without keys)."""
        if self._fernet is None:
            return text
        return PREFIX + self._fernet.encrypt(text.encode()).decode()

    @staticmethod
    def is_sealed(stored: str) -> bool:
        """Whether a stored value is encrypted."""
        return stored.startswith((PREFIX, USER_PREFIX))

    def new_user_key(self) -> str:
        """A fresh data key for one user, sealed with the configured keys (for storing)."""
        return self.seal(Fernet.generate_key().decode())

    def user(self, wrapped: str | None) -> UserSealer:
        """The sealer of one user's data, from their stored (sealed) key, or None: no key."""
        return UserSealer(self, Fernet(self.open(wrapped)) if wrapped else None)

    def open(self, stored: str) -> str:
        """Decrypt a stored value, whichever configured key sealed it."""
        if stored.startswith(USER_PREFIX):
            raise SealError("this value is sealed with a user's own key")
        if not stored.startswith(PREFIX):
            return stored
        if self._fernet is None:
            raise SealError("stored data is encrypted and no key is configured")
        return _decrypt(self._fernet, stored[len(PREFIX) :],
                        "none of the configured keys opens stored data")  # fmt: skip

    def reseal(self, stored: str) -> str:
        """The same value sealed with the newest key (a user's own key is left as it is: the
        user's key itself is what is re-sealed)."""
        if stored.startswith(USER_PREFIX):
            return stored
        return self.seal(self.open(stored))


class UserSealer:
    """Seals one user's data with their own key (envelope encryption), so erasing that one key
    makes every copy of their data unreadable: rows, old row versions, the write-ahead log."""

    def __init__(self, sealer: Sealer, fernet: Fernet | None) -> None:
        self.sealer, self.fernet = sealer, fernet

    def seal(self, text: str) -> str:
        """Encrypt with the user's key (the configured keys, or none, when they have none)."""
        if self.fernet is None:
            return self.sealer.seal(text)
        return USER_PREFIX + self.fernet.encrypt(text.encode()).decode()

    def open(self, stored: str) -> str:
        """Decrypt a value of this user's, sealed either way."""
        if not stored.startswith(USER_PREFIX):
            return self.sealer.open(stored)
        if self.fernet is None:
            raise SealError("the user's key is gone")
        return _decrypt(self.fernet, stored[len(USER_PREFIX) :],
                        "the user's key does not open this value")  # fmt: skip


def _decrypt(fernet: Fernet | MultiFernet, token: str, refused: str) -> str:
    """Open a Fernet token, or raise SealError saying `refused`."""
    try:
        return fernet.decrypt(token.encode()).decode()
    except InvalidToken as err:
        raise SealError(refused) from err


def new_key() -> str:
    """A fresh key, for the README's instructions and for tests."""
    return Fernet.generate_key().decode()
