"""A shared location to a time zone, offline (timezonefinder's boundary data, loaded once)."""

from __future__ import annotations

import threading
from functools import cache
from typing import Any

_lock = threading.Lock()


@cache
def _finder() -> Any:
    from timezonefinder import TimezoneFinder  # noqa: PLC0415 - ~1 s to load: only when used

    return TimezoneFinder()


def zone_at(latitude: float, longitude: float) -> str:
    """The IANA zone at a point ("" at sea or for a point that is not on Earth)."""
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return ""
    with _lock:  # built once; lookups are not documented as thread-safe
        found = _finder().timezone_at(lng=longitude, lat=latitude)
    return found if found and not found.startswith("Etc/") else ""
