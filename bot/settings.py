"""Configuration from the environment or a .env file: one typed place."""

from __future__ import annotations

from pathlib import Path

from platformdirs import user_data_dir
from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_db() -> Path:
    """The SQLite file in the user's data folder."""
    return Path(user_data_dir("repair-coach", appauthor=False)) / "coach.db"


class Settings(BaseSettings):
    """Every setting, read from REPAIR_COACH_* variables (or .env)."""

    model_config = SettingsConfigDict(env_prefix="REPAIR_COACH_", env_file=".env", extra="ignore")

    database: str = Field(default_factory=lambda: str(default_db()))
    """SQLite path, or ":memory:"."""
    database_url: str = ""
    """postgresql://… to use PostgreSQL (several workers) instead of SQLite; sqlite:///path is
    a SQLite file. `--db` on the command line wins over both."""
    encryption_key: SecretStr | None = None
    """Fernet keys, comma-separated, newest first: every free-text field is encrypted at rest."""
    locale: str = "en"
    """The language new users are greeted in."""
    country: str = ""
    """Crisis lines before a user's time zone or answer tells their country: US UK IE CA AU, or
    empty (the default): the international directory, and the coach asks for the country."""
    content_dir: str = ""
    """A content folder to use instead of the shipped one (for writers)."""

    telegram_bot_token: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("TELEGRAM_BOT_TOKEN", "REPAIR_COACH_TELEGRAM_BOT_TOKEN"),
    )
    """The token BotFather gave you."""
    telegram_api_base_url: str = Field(
        default="https://api.telegram.org",
        validation_alias=AliasChoices(
            "TELEGRAM_API_BASE_URL", "REPAIR_COACH_TELEGRAM_API_BASE_URL"
        ),
    )
    """The Bot API server: Telegram's, a self-hosted one, or a test double."""
    webhook_url: str = ""
    """The public HTTPS address Telegram posts updates to (webhook mode)."""
    webhook_host: str = "127.0.0.1"
    """Where the webhook server listens."""
    webhook_port: int = 8443
    webhook_path: str = "/telegram"
    webhook_secret: SecretStr | None = None
    """Checked on every webhook request (Telegram's X-Telegram-Bot-Api-Secret-Token)."""
    max_concurrent_updates: int = 64
    """Chats whose updates are applied at once (each chat's one at a time, in order)."""
    database_down_limit: float = 60.0
    """Seconds the database may stay unreachable before `run` stops (exit code 3) for its
    supervisor to restart it; meanwhile no update is acknowledged."""
    connection_pool_size: int = 16
    """Connections to the Bot API (httpcore scans its pool on every request: keep it small)."""
    request_timeout: float = 10.0
    """Seconds to wait for the Bot API on each call."""
    send_rate: float = 30.0
    """Messages a second the bot sends at most, over all chats (Telegram's limit: 30): one
    budget shared by every worker on a PostgreSQL database (set each to the same value)."""
    chat_burst: int = 3
    """Messages one chat may get at once; beyond that, one a second (a reply of three lines
    goes out at once, a flood does not)."""
    persona_pause: float = 1.2
    """Seconds the simulated person in a rehearsal shows "typing…" before answering (a reply
    that comes at once does not feel like a person)."""
    tick_seconds: float = 15.0
    """How often the scheduler looks for reminders that came due (one job per process)."""


class Misconfigured(Exception):
    """A setting that cannot work: one line for the user (the setting and the fix), exit 2."""


def load() -> Settings:
    """The settings, or Misconfigured naming the first variable that cannot be read."""
    from pydantic import ValidationError  # noqa: PLC0415 - only the error path needs it

    try:
        return Settings()
    except ValidationError as err:
        first = err.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else ""
        secret = field in ("encryption_key", "telegram_bot_token", "webhook_secret")
        shown = "" if secret else f" (got {str(first.get('input'))[:40]!r})"
        raise Misconfigured(
            f"REPAIR_COACH_{field.upper()}: {first['msg'].lower()}{shown}; fix or unset it"
        ) from None


SQLITE_URL = "sqlite:///"


def database(settings: Settings, db: str | None) -> tuple[str, str, str]:
    """(SQLite path, PostgreSQL URL, the setting they came from): `--db` wins over the
    environment; a `sqlite:///path` URL is a SQLite file; any other URL must be PostgreSQL."""
    if db is not None:
        return _named(db, "--db"), "", "--db"
    url = settings.database_url.strip()
    if not url:
        return _named(settings.database, "REPAIR_COACH_DATABASE"), "", "REPAIR_COACH_DATABASE"
    if url[: len(SQLITE_URL)].lower() == SQLITE_URL:
        return url[len(SQLITE_URL) :] or ":memory:", "", "REPAIR_COACH_DATABASE_URL"
    head, colon, rest = url.partition(":")
    scheme = head.partition("+")[0].lower()
    if not (colon and scheme.isascii() and scheme.isalnum()) or (
        scheme != "sqlite" and not rest.startswith("//")
    ):  # not a URL at all (user:password@host): nothing of it is echoed
        scheme = ""
    if scheme in ("postgresql", "postgres"):
        return "", url, "REPAIR_COACH_DATABASE_URL"
    if scheme == "sqlite":  # sqlite:// alone, or sqlite://name: the path needs a third slash
        raise Misconfigured(
            "REPAIR_COACH_DATABASE_URL: this sqlite URL names no file; give "
            "sqlite:///path/to/coach.db (three slashes before the path), or sqlite:///:memory: "
            "to keep nothing"
        )
    raise Misconfigured(
        f"REPAIR_COACH_DATABASE_URL: a {scheme or 'malformed'!s} URL is not a database the coach "
        "can use; give postgresql://user@host/dbname, or sqlite:///path/to/coach.db"
    )


def _named(path: str, setting: str) -> str:
    """A SQLite path as given; an empty one (which SQLite would take as a temporary file, gone
    at the end) is a setting to fix."""
    if not path.strip():
        raise Misconfigured(f"{setting} is empty: give the path of a file, or :memory: to keep "
                            "nothing")  # fmt: skip
    return path
