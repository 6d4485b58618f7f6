"""Conversations as data: each YAML script in conversations/ runs through the pure engine."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from coach_testing import run_step

from dialogue.content import Content
from dialogue.engine import Engine, Turn
from dialogue.session import Session

SCRIPTS = sorted((Path(__file__).parent / "conversations").glob("*.yaml"))


def check_step(n: int, step: dict[str, Any], turn: Turn, content: Content) -> None:
    where = f"step {n} ({step})"
    keys = [r.key for r in turn.replies]
    for r in turn.replies:  # every reply renders, with every variable it uses
        content.render(r, turn.session.locale)
    if "state" in step:
        assert turn.session.state == step["state"], where
    if "says" in step:
        assert keys == step["says"], where
    if "says_also" in step:
        assert set(step["says_also"]) <= set(keys), where
    if "safety" in step:
        assert turn.safety == step["safety"], where
    if "cues" in step:
        assert set(step["cues"]) <= set(turn.cues), where
    if "effects" in step:
        assert [e.kind for e in turn.effects] == step["effects"], where
    if "next_due" in step:  # where the reminder row goes: a UTC stamp, or null (deleted)
        moves = [e.data["at"] for e in turn.effects if e.kind in ("schedule", "follow_up")]
        assert moves and moves[-1] == step["next_due"], (where, moves)
    buttons = [b.id for r in turn.replies for b in r.flat_buttons]
    if "buttons" in step:
        assert set(step["buttons"]) <= set(buttons), where
    if "no_buttons" in step:
        assert not set(step["no_buttons"]) & set(buttons), where
    if "ticked" in step:
        ticked = [b.id for r in turn.replies for b in r.flat_buttons if b.ticked]
        assert ticked == step["ticked"], where
    if "stale" in step:
        assert turn.stale == step["stale"], where
    if "profile" in step:
        for field, value in step["profile"].items():
            assert getattr(turn.session.profile, field) == value, where
    if "session" in step:
        for field, value in step["session"].items():
            assert getattr(turn.session, field) == value, where
    if "draft" in step:  # only the draft keys named
        for key, value in step["draft"].items():
            assert turn.session.draft.get(key) == value, where
    if "plan" in step:
        for field, value in step["plan"].items():
            assert turn.session.plans[-1][field] == value, where
    text = "\n".join(content.render(r, turn.session.locale).text for r in turn.replies)
    for part in step.get("text_contains", []):
        assert part in text, where
    for part in step.get("text_lacks", []):
        assert part not in text, where
    for first, then in step.get("text_before", []):  # help first: `first` before `then`
        assert first in text and then in text and text.index(first) < text.index(then), where
    if "partner" in step:  # the simulated person in a rehearsal (null: none)
        want = step["partner"]
        got = turn.partner
        assert (got is None) if want is None else (
            got is not None and {k: got[k] for k in want} == want), (where, got)  # fmt: skip
    if "risk" in step:
        got = turn.risk.as_dict() if turn.risk else None
        want = step["risk"]
        assert (
            (got is None)
            if want is None
            else (got is not None and {k: got[k] for k in want} == want)
        ), where


@pytest.mark.parametrize("path", SCRIPTS, ids=[p.stem for p in SCRIPTS])
def test_conversation(path: Path, engine: Engine, content: Content, now: datetime) -> None:
    script = yaml.safe_load(path.read_text(encoding="utf-8"))
    session = Session(script.get("user", "u1"), seed=script.get("seed", 1))
    for n, step in enumerate(script["steps"], 1):
        at = datetime.fromisoformat(step["now"]) if "now" in step else now
        turn = run_step(engine, session, step, at)
        check_step(n, step, turn, content)
        session = Session.from_json(turn.session.to_json())  # as storage would


def test_scripts_exist() -> None:
    assert len(SCRIPTS) >= 6
