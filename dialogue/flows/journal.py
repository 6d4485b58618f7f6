"""The journal: past plans, outcomes and reflections, newest first, a page at a time.

The page on screen is kept in the draft when the list is entered (`_show`): its buttons are
checked against it, so a press is taken as the page the user saw, never the one just read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dialogue.daily import local_day, parse_stamp
from dialogue.events import Command, Press
from dialogue.flows.base import CHOICE, GOTO, Flow, Step
from dialogue.replies import excerpt

if TYPE_CHECKING:
    from transitions import EventData

    from dialogue.engine import Ctx

PAGE = 5
OPEN = tuple(f"open{i}" for i in range(1, PAGE + 1))
GIST_WORDS, GIST_MAX = 7, 48  # an entry's first words in the list: at most so many, so long
GIST_OF = {"plan": "what_happened", "reflection": "text", "outcome": "note"}
RETURNS = ("safety", "daily", "followup")  # flows that come back to where the user was


def first_words(text: str, words: int = GIST_WORDS, limit: int = GIST_MAX) -> str:
    """The opening words of the user's text, marked "…" when cut (shown escaped, as data)."""
    split = text.split()
    gist = excerpt(" ".join(split[:words]), limit)
    return gist + "…" if len(split) > words and not gist.endswith("…") else gist


def view(entry: dict[str, Any], tz: str) -> dict[str, Any]:
    """An entry as templates show it: its local day and its first words besides the data."""
    try:
        day = local_day(tz, parse_stamp(entry["at"])).isoformat()
    except (ValueError, KeyError):
        day = str(entry.get("at", ""))[:10]
    text = entry.get("data", {}).get(GIST_OF.get(entry["kind"], ""), "")
    return {**entry, "day": day, "gist": first_words(text if isinstance(text, str) else "")}


def _shown(ctx: Ctx) -> dict[str, Any]:
    return ctx.draft.get("journal", {})


def _show(ctx: Ctx) -> None:
    """Entering the list: the page just read is the one on screen now."""
    page = (ctx.data or {}).get("journal")
    if page is not None:
        ctx.draft["journal"] = {
            "page": page["page"],
            "more": page["more"],
            "ids": [[e["kind"], e["id"]] for e in page["entries"]],
        }


def _list_options(ctx: Ctx) -> list[str]:
    """The buttons of the page on screen."""
    shown = _shown(ctx)
    if "ids" not in shown:
        _show(ctx)
        shown = _shown(ctx)
    number = shown.get("page", 0)
    opts = list(OPEN[: len(shown.get("ids", []))])
    opts += ["older"] if shown.get("more") else []
    opts += ["newer"] if number > 0 else []
    return [*opts, "menu"]


def _list_vars(ctx: Ctx) -> dict[str, Any]:
    page = (ctx.data or {}).get("journal") or {"page": 0, "entries": []}
    tz = ctx.session.profile.tz
    return {"entries": [view(e, tz) for e in page["entries"]], "index": page["page"] * PAGE}


def _entry_vars(ctx: Ctx) -> dict[str, Any]:
    entry = (ctx.data or {}).get("entry")
    if entry is None:
        return {"entry": {"kind": "missing", "id": "", "at": "", "day": "", "gist": "", "data": {}}}
    return {"entry": view(entry, ctx.session.profile.tz)}


def _remember_open(event: EventData) -> None:
    ctx: Ctx = event.model
    ids = _shown(ctx).get("ids", [])
    button = event.event.name
    n = OPEN.index(button) if button in OPEN else 0
    ctx.draft.setdefault("journal", {})["open"] = ids[n] if n < len(ids) else ["missing", ""]


def sample_entries() -> list[dict[str, Any]]:
    """The longest journal entries the store can give, one of each kind (content check)."""
    from dialogue.flows.conflict import sample_plan  # noqa: PLC0415 - avoids a cycle

    at = "2026-01-01T20:00:00+00:00"
    return [view(e, "UTC") for e in (
        {"kind": "plan", "id": "p" * 12, "at": at, "data": sample_plan()},
        {"kind": "outcome", "id": "o" * 12, "at": at,
         "data": {"outcome": "partly", "plan_id": "p" * 12, "them": "W" * 40, "note": "W" * 300}},
        {"kind": "reflection", "id": "r" * 12, "at": at, "data": {"text": "W" * 1000}},
    )]  # fmt: skip


def _journal_state(session: Any) -> str:
    """The journal state a turn shows or may come back to ("" when none)."""
    if session.flow == "journal":
        return session.state
    back = {"safety": session.paused, "daily": session.daily.get("resume", "")}
    back["followup"] = back["daily"]
    target = back.get(session.flow, "") if session.flow in RETURNS else ""
    return target if target.startswith("journal.") else ""


def _press_wants(state: str, shown: dict[str, Any], button: str) -> tuple[Any, ...] | None:
    """What a press on the screen shown needs: the page or entry it leads to (None: stale)."""
    page = int(shown.get("page", 0))
    ids = shown.get("ids", [])
    if state == "journal.list":
        if button == "older" and shown.get("more"):
            return ("journal", page + 1)
        if button == "newer" and page > 0:
            return ("journal", page - 1)
        if button in OPEN and OPEN.index(button) < len(ids):
            return ("entry", *ids[OPEN.index(button)])
    if state == "journal.entry" and button == "back":
        return ("journal", page)
    return None


def wants(session: Any, event: Any) -> tuple[Any, ...] | None:
    """The stored data a journal turn needs: a page, or one entry."""
    if isinstance(event, Command) and event.name == "journal":
        return ("journal", 0)
    state = "" if session is None else _journal_state(session)
    if not state:
        return None
    shown = session.draft.get("journal", {})
    if isinstance(event, Press) and session.flow == "journal":
        found = _press_wants(state, shown, event.button)
        if found is not None:
            return found
    if state == "journal.entry" and "open" in shown:
        return ("entry", *shown["open"])
    return ("journal", int(shown.get("page", 0)))


STEPS = [
    Step("list", CHOICE, _list_options, group="journal", vars=_list_vars, columns=5,
         enter=_show, every_option=(*OPEN, "older", "newer", "menu")),
    Step("entry", CHOICE, ("back", "menu"), group="journal", vars=_entry_vars, columns=2),
    Step("to_menu", GOTO, goto="menu.home"),
]  # fmt: skip

TRANSITIONS = [
    *({"trigger": o, "source": "list", "dest": "entry", "before": _remember_open} for o in OPEN),
    {"trigger": "older", "source": "list", "dest": "list"},
    {"trigger": "newer", "source": "list", "dest": "list"},
    {"trigger": "back", "source": "entry", "dest": "list"},
    {"trigger": "menu", "source": ["list", "entry"], "dest": "to_menu"},
]

FLOW = Flow("journal", STEPS, TRANSITIONS)
