"""The per-user state: a plain, versioned, JSON-serialisable dataclass."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

SCHEMA_VERSION = 1
PLANS_KEPT = 20  # the newest plan cards kept in the session for "my plans"
HISTORY_KEPT = 40  # states remembered for /back


class SessionError(ValueError):
    """A stored session cannot be read (corrupt JSON, or a schema from the future)."""


@dataclass
class Profile:
    """Who the coaching is about and how the user wants reminders."""

    relationship: str = ""  # child, partner, other
    # baby (0), toddler (1-2), preschool (3-5), child (school age, 6-12), teen (13+), for
    # relationship == child. Profiles from before preschool existed keep "toddler" (then 1-3)
    # and "child" (then 4-12); both read as they did.
    age_band: str = ""
    name: str = ""  # the user's name for the other person, optional
    reflections: bool = False
    reflect_time: str = ""  # "HH:MM", local
    tz: str = ""  # IANA name or "UTC+HH:MM"
    country: str = ""  # crisis lines: US, UK, IE, CA, AU ("" -> default)
    daily_paused: bool = False  # /pause: reflections stop until /resume
    onboarded: bool = False

    @property
    def rel(self) -> str:
        """The relationship as one word for content: baby, toddler, child, teen, partner, other."""
        if self.relationship == "child":
            return "child" if self.age_band in ("", "preschool") else self.age_band
        return self.relationship or "other"

    @property
    def band(self) -> str:
        """`rel` with a child's finer age band: preschool as well (conflict drafts and moves)."""
        if self.relationship == "child" and self.age_band == "preschool":
            return "preschool"
        return self.rel


@dataclass
class Session:
    """Everything the coach remembers about one user between turns."""

    user_id: str
    locale: str = "en"
    state: str = "start.new"  # "<flow>.<state>"
    schema: int = SCHEMA_VERSION
    seed: int = 0
    turn: int = 0
    keyboard_at: int = 0  # the turn that sent the keyboard on screen (ticks edit it in place)
    profile: Profile = field(default_factory=Profile)
    draft: dict[str, Any] = field(default_factory=dict)  # answers of the flow under way
    history: list[str] = field(default_factory=list)  # states of this flow, for /back
    paused: str = ""  # the state a safety pause interrupted
    alert: str = ""  # the crisis kind that paused coaching (or that the coach asked about)
    alert_who: str = ""  # who is at risk: user, child, user_from_partner, other
    alert_label: str = ""  # the finer label (language.risk.LABELS)
    alert_kinds: list[str] = field(default_factory=list)  # every kind the message showed
    held: str = ""  # the message a safety question interrupted: its answer if the user says no
    hold: str = ""  # "abuse": no repair coaching towards the partner until the user says otherwise
    plans: list[dict[str, Any]] = field(default_factory=list)
    group_notice: bool = False
    last_at: str = ""  # when the user last wrote or pressed (UTC stamp): ticks wait for quiet
    # The button ids of the keyboard sent last when it was not the step's own (the closest
    # few, a side answer's): what typed button numbers mean. None: the step's own.
    shown: list[str] | None = None
    setup_at: str = ""  # the onboarding step a newcomer left unfinished: where setup goes on
    # The coach's own outreach: prompt (shown now), used (prompt keys), last_day (local date
    # of the latest reflection sent), plan (the follow-up's plan id), at (its outcome's time),
    # resume (the state a reflection or follow-up interrupted).
    daily: dict[str, Any] = field(default_factory=dict)

    @property
    def flow(self) -> str:
        """The flow part of the state."""
        return self.state.partition(".")[0]

    @property
    def token(self) -> str:
        """A short id of the current keyboard: the turn counter in base 36."""
        n, digits = self.turn, ""
        while True:
            n, r = divmod(n, 36)
            digits = "0123456789abcdefghijklmnopqrstuvwxyz"[r] + digits
            if n == 0:
                return digits

    def shows(self, token: str) -> bool:
        """Whether a press's token is of the keyboard on screen: the current one, or an earlier
        state of it that a tick since edited in place (a quick second tap arrives before the
        edit does)."""
        if token == self.token:
            return True
        try:
            n = int(token, 36)
        except ValueError:
            return False
        return self.keyboard_at <= n <= self.turn

    def copy(self) -> Session:
        """A copy safe to change: turns replace draft values, never mutate them in place."""
        new = object.__new__(Session)
        new.__dict__.update(self.__dict__)  # dataclasses.replace costs ~10x more per turn
        profile = object.__new__(Profile)
        profile.__dict__.update(self.profile.__dict__)
        new.profile, new.draft = profile, dict(self.draft)
        new.history, new.plans = list(self.history), list(self.plans)
        new.daily = dict(self.daily)
        return new

    def to_json(self) -> str:
        """Serialise to compact JSON."""
        data = {**self.__dict__, "profile": self.profile.__dict__}  # asdict deep-copies: slow
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str | bytes) -> Session:
        """Read a stored session, migrating older schemas."""
        try:
            data = json.loads(raw)
        except ValueError as err:
            raise SessionError("stored session is not JSON") from err
        if not isinstance(data, dict) or "user_id" not in data:
            raise SessionError("stored session has no user")
        data = migrate(data)
        profile = Profile(**data.pop("profile", {}))
        known = set(cls.__dataclass_fields__)
        return cls(profile=profile, **{k: v for k, v in data.items() if k in known})


def migrate(data: dict[str, Any]) -> dict[str, Any]:
    """Bring a stored session's dict up to SCHEMA_VERSION, one version at a time."""
    version = int(data.get("schema", 1))
    if version > SCHEMA_VERSION:
        raise SessionError(f"session schema {version} is newer than {SCHEMA_VERSION}")
    # Each future schema change adds a step here: `if version == N: ...; version = N + 1`.
    data["schema"] = SCHEMA_VERSION
    return data
