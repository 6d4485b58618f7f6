"""Encryption at rest of every free-text field: Fernet, several keys for rotation.

With no key, text is stored as it is (and `repair-coach run` warns once). With keys, the first
one seals new data and every one of them opens old data; `repair-coach rekey` re-seals all rows
with the first key, so an old key can then be retired.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

PREFIX = "f1:"  # marks a sealed value; anything else is plain text written without a key


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
        return stored.startswith(PREFIX)

    def open(self, stored: str) -> str:
        """Decrypt a stored value, whichever configured key sealed it."""
        if not stored.startswith(PREFIX):
            return stored
        if self._fernet is None:
            raise SealError("stored data is encrypted and no key is configured")
        try:
            return self._fernet.decrypt(stored[len(PREFIX) :].encode()).decode()
        except InvalidToken as err:
            raise SealError("none of the configured keys opens stored data") from err

    def reseal(self, stored: str) -> str:
        """The same value sealed with the newest key."""
        return self.seal(self.open(stored))


def new_key() -> str:
    """A fresh key, for the README's instructions and for tests."""
    return Fernet.generate_key().decode()
