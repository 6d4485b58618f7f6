"""The journal: past plans, outcomes and reflections, newest first, a page at a time."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dialogue.events import Command, Press
from dialogue.flows.base import CHOICE, GOTO, Flow, Step

if TYPE_CHECKING:
    from transitions import EventData

    from dialogue.engine import Ctx

PAGE = 5
OPEN = tuple(f"open{i}" for i in range(1, PAGE + 1))


def _page(ctx: Ctx) -> dict[str, Any]:
    return (ctx.data or {}).get("journal") or {"page": 0, "entries": [], "more": False}


def _list_options(ctx: Ctx) -> list[str]:
    """The page's buttons: from the page just read, or from the one shown last."""
    if ctx.data and "journal" in ctx.data:
        page = ctx.data["journal"]
        count, more, number = len(page["entries"]), page["more"], page["page"]
    else:
        shown = ctx.draft.get("journal", {})
        count, more, number = len(shown.get("ids", [])), shown.get("more"), shown.get("page", 0)
    opts = list(OPEN[:count])
    opts += ["older"] if more else []
    opts += ["newer"] if number > 0 else []
    return [*opts, "menu"]


def _list_vars(ctx: Ctx) -> dict[str, Any]:
    page = _page(ctx)
    ctx.draft["journal"] = {
        "page": page["page"],
        "more": page["more"],
        "ids": [[e["kind"], e["id"]] for e in page["entries"]],
    }
    return {"entries": page["entries"], "index": page["page"] * PAGE}


def _entry_vars(ctx: Ctx) -> dict[str, Any]:
    entry = (ctx.data or {}).get("entry")
    return {"entry": entry or {"kind": "missing", "id": "", "at": "", "data": {}}}


def _remember_open(event: EventData) -> None:
    ctx: Ctx = event.model
    ids = ctx.draft.get("journal", {}).get("ids", [])
    button = event.event.name
    n = OPEN.index(button) if button in OPEN else 0
    ctx.draft.setdefault("journal", {})["open"] = ids[n] if n < len(ids) else ["missing", ""]


def sample_entries() -> list[dict[str, Any]]:
    """The longest journal entries the store can give, one of each kind (content check)."""
    from dialogue.flows.conflict import sample_plan  # noqa: PLC0415 - avoids a cycle

    at = "2026-01-01T20:00:00+00:00"
    return [
        {"kind": "plan", "id": "p" * 12, "at": at, "data": sample_plan()},
        {"kind": "outcome", "id": "o" * 12, "at": at,
         "data": {"outcome": "partly", "plan_id": "p" * 12, "them": "W" * 40, "note": "W" * 300}},
        {"kind": "reflection", "id": "r" * 12, "at": at, "data": {"text": "W" * 1000}},
    ]  # fmt: skip


def wants(session: Any, event: Any) -> tuple[Any, ...] | None:  # noqa: PLR0911 - one per case
    """The stored data a journal turn needs: a page, or one entry."""
    if isinstance(event, Command) and event.name == "journal":
        return ("journal", 0)
    if session is None or session.flow != "journal":
        return None
    state = session.draft.get("journal", {})
    page = int(state.get("page", 0))
    if isinstance(event, Press):
        if event.button == "older":
            return ("journal", page + 1)
        if event.button in ("newer", "back"):
            return ("journal", max(0, page - (event.button == "newer")))
        if event.button in OPEN:
            ids = state.get("ids", [])
            n = OPEN.index(event.button)
            return ("entry", *ids[n]) if n < len(ids) else ("journal", page)
    if session.state == "journal.entry" and "open" in state:
        return ("entry", *state["open"])
    return ("journal", page)


STEPS = [
    Step("list", CHOICE, _list_options, group="journal", vars=_list_vars, columns=5,
         every_option=(*OPEN, "older", "newer", "menu")),
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
