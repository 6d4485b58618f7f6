"""/export for a person: what the store keeps about a user, in the words they saw.

The store's export (`Store.export`) is complete and exact; this turns it into a document a
person reads: ids become the labels the user tapped, engine internals stay out, each plan
appears once, times are in the user's own time zone. Every name and value comes from content
(`labels.yaml`, group `export`, and the groups the buttons used); only what the user wrote is
copied as it is, never rendered.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from dialogue.content import Content, ContentError, Locale
from dialogue.daily import FOLLOW_UP, parse_stamp
from dialogue.places import zone
from dialogue.replies import Reply

if TYPE_CHECKING:
    from bot.storage import Store

Doc = dict[str, Any]


def document(store: Store, user_id: str, now: datetime, content: Content, locale: str) -> bytes:
    """The JSON file /export gives a user (terminal and Telegram alike)."""
    return to_bytes(for_person(store.export(user_id, now), content, locale))


class Words:
    """The names and values of one export, from one locale's content."""

    def __init__(self, content: Content, locale: str, profile: dict[str, Any]) -> None:
        self.content, self.locale = content, locale
        self.loc: Locale = content.locale(locale)
        self.tz = str(profile.get("tz") or "UTC")
        self.rel, self.name = _rel(profile), str(profile.get("name") or "")

    def name_of(self, key: str) -> str:
        """The name of a section or field."""
        return self.loc.label(f"export.{key}")

    def label(self, group: str, value: object) -> str:
        """The label the user saw for an id (the id itself if content no longer has it)."""
        return self.loc.labels.get(f"{group}.{value}", str(value))

    def when(self, stamp: object) -> str:
        """A stored moment in the user's time zone, to the minute."""
        try:
            moment = parse_stamp(str(stamp))
        except ValueError:
            return str(stamp)
        return f"{moment.astimezone(zone(self.tz)):%Y-%m-%d %H:%M}"

    def text(self, key: str) -> str:
        """A content text as plain words ("" if it cannot be said any more)."""
        reply = Reply(key, {"rel": self.rel, "name": self.name})
        try:
            return self.content.render(reply, self.locale).text
        except ContentError:  # a prompt since retired: its answer still counts
            return ""

    def fields(self, pairs: list[tuple[str, object]]) -> Doc:
        """Named fields, leaving out the empty ones."""
        return {self.name_of(k): v for k, v in pairs if v not in ("", None, [])}


def _rel(profile: dict[str, Any]) -> str:
    """Who the coaching is about, as one word (baby, toddler, child, teen, partner, other)."""
    relationship = profile.get("relationship") or "other"
    return (profile.get("age_band") or "child") if relationship == "child" else relationship


def for_person(raw: Doc, content: Content, locale: str) -> Doc:
    """The person's export document built from the store's export."""
    session = raw.get("session") or {}
    profile = session.get("profile") or {}
    w = Words(content, session.get("locale") or locale, profile)
    plans = _plans(raw, session)
    sections: list[tuple[str, object]] = [
        ("about", w.text("menu.export_caption")),
        ("exported_at", w.when(raw.get("exported_at", ""))),
        ("times_in", w.tz),
        ("you", _you(w, raw.get("user") or {}, profile)),
        ("plans", [_plan(w, p) for p in plans]),
        ("outcomes", [_outcome(w, o["data"], plans) for o in raw.get("outcomes", [])]),
        ("reflections", [_reflection(w, r["data"]) for r in raw.get("reflections", [])]),
        ("coming_up", [_due(w, row) for row in raw.get("schedule", [])]),
        ("unfinished", _unfinished(w, session.get("draft") or {})),
    ]
    return w.fields(sections)


def to_bytes(doc: Doc) -> bytes:
    """The document as the JSON file the user gets."""
    return json.dumps(doc, ensure_ascii=False, indent=2).encode()


def _plans(raw: Doc, session: Doc) -> list[Doc]:
    """Every plan once: the stored ones, and any the session holds that are not stored."""
    stored = [row["data"] for row in raw.get("plans", [])]
    ids = {p.get("id") for p in stored}
    return stored + [p for p in session.get("plans", []) if p.get("id") not in ids]


def _you(w: Words, user: Doc, profile: Doc) -> Doc:
    """The setup: who it is about, their name, the time zone, the daily reflection."""
    relationship = profile.get("relationship", "")
    age = profile.get("age_band", "")
    if not profile.get("reflections"):
        daily = "daily_off"
    else:
        daily = "daily_paused" if profile.get("daily_paused") else "daily_on"
    return w.fields([
        ("since", w.when(user["created_at"]) if user.get("created_at") else ""),
        ("coaching_about", w.label("relationship", relationship) if relationship else ""),
        ("age", w.label("age", age) if age else ""),
        ("their_name", profile.get("name", "")),
        ("time_zone", profile.get("tz", "")),
        ("country", profile.get("country", "")),
        ("daily", w.name_of(daily)),
        ("daily_time", profile.get("reflect_time", "") if profile.get("reflections") else ""),
    ])  # fmt: skip


def _plan(w: Words, plan: Doc) -> Doc:
    """One repair plan, as its card showed it."""
    when = plan.get("when", "")
    practised = plan.get("practised", "")
    return w.fields([
        ("made", w.when(plan.get("created", ""))),
        ("with", plan.get("them", "")),
        ("what_happened", plan.get("what_happened", "")),
        ("their_side", plan.get("their_side", "")),
        ("my_part", plan.get("my_part", "")),
        ("feelings", [w.label("emotion", e) for e in plan.get("emotions", [])]),
        ("body", [w.label("body", b) for b in plan.get("body", [])]),
        ("intensity", plan.get("intensity")),
        ("pulled_away", w.label("space", plan["space"]) if plan.get("space") else ""),
        ("space_feel", w.label("space_feel", plan["space_feel"]) if plan.get("space_feel") else ""),
        ("moves", [w.label("move", m) for m in plan.get("moves", [])]),
        ("opening", plan.get("line", "")),
        ("practised", practised if practised != plan.get("line") else ""),
        ("later", plan.get("later", "")),
        ("when", plan.get("when_text", "") if when == "own" else w.label("when", when)),
    ])  # fmt: skip


def _outcome(w: Words, outcome: Doc, plans: list[Doc]) -> Doc:
    """How a repair went, with the plan it was about."""
    plan = next((p for p in plans if p.get("id") == outcome.get("plan_id")), {})
    return w.fields([
        ("day", w.when(outcome.get("at", ""))),
        ("with", outcome.get("them", "")),
        ("plan_made", w.when(plan["created"]) if plan.get("created") else ""),
        ("how_it_went", w.label("outcome", outcome.get("outcome", ""))),
        ("note", outcome.get("note", "")),
    ])  # fmt: skip


def _reflection(w: Words, reflection: Doc) -> Doc:
    """A daily reflection: the question as it was asked, and the answer."""
    prompt = reflection.get("prompt", "")
    return w.fields([
        ("day", w.when(reflection.get("at", ""))),
        ("question", w.text(f"daily.prompt.{prompt}") if prompt else ""),
        ("answer", reflection.get("text", "")),
    ])  # fmt: skip


def _due(w: Words, row: Doc) -> Doc:
    """A reminder still to come."""
    what = "follow_up" if row.get("kind") == FOLLOW_UP else "reflection"
    return w.fields([("what", w.name_of(what)), ("when", w.when(row.get("due_at", "")))])


# What a flow under way keeps that the user wrote or chose (the rest of the draft is the
# engine's own bookkeeping: the simulated person's state, variants said, counters).
UNFINISHED = ("what_happened", "camera", "their_side", "my_part", "line", "when_text")


def _unfinished(w: Words, draft: Doc) -> Doc:
    """The answers of a flow not finished yet: stored too, so exported too."""
    return w.fields([(k, draft[k]) for k in UNFINISHED if isinstance(draft.get(k), str)])
