"""Configuration from the environment or a .env file: one typed place."""

from __future__ import annotations

from pathlib import Path

from platformdirs import user_data_dir
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_db() -> Path:
    """The SQLite file in the user's data folder."""
    return Path(user_data_dir("repair-coach", appauthor=False)) / "coach.db"


class Settings(BaseSettings):
    """Every setting, read from REPAIR_COACH_* variables (or .env)."""

    model_config = SettingsConfigDict(env_prefix="REPAIR_COACH_", env_file=".env", extra="ignore")

    database: str = Field(default_factory=lambda: str(default_db()))
    """SQLite path, or ":memory:"."""
    locale: str = "en"
    """The language new users are greeted in."""
    country: str = "US"
    """Crisis lines shown before a user's time zone tells their country: US UK IE CA AU INTL."""
    content_dir: str = ""
    """A content folder to use instead of the shipped one (for writers)."""
