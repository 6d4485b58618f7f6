"""The terminal coach, through the installed `repair-coach` command, as a newcomer runs it."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow
COMMAND = str(Path(sys.executable).parent / "repair-coach")

JOURNEY: list[dict[str, Any]] = [
    {"text": "/start"}, {"press": "next"}, {"press": "My partner"}, {"text": "Robin"},
    {"press": "no"}, {"text": "Dublin"}, {"press": "yes"}, {"press": "new"},
    {"text": "Robin said I never help. I said 'that's not fair' and went upstairs."},
    {"text": "Robin said: you never help. I said: that's not fair, and went upstairs."},
    {"text": "Robin sighed and went quiet"}, {"text": "I snapped at Robin and left the room"},
    {"press": "chest"}, {"press": "done"}, {"press": "hurt"}, {"press": "done"},
    {"press": "next"}, {"press": "heard"}, {"press": "understanding"}, {"press": "4"},
    {"press": "wait_ok"}, {"press": "next"},
    {"press": "space_greet"}, {"press": "own_part"}, {"press": "done"},
]  # fmt: skip
FINISH: list[dict[str, Any]] = [{"press": "d2"}, {"press": "tomorrow"}]


def run_jsonl(db: Path, lines: list[Any], *extra: str) -> list[dict[str, Any]]:
    """Feed JSON lines to `repair-coach chat --jsonl`; every output line must be JSON."""
    feed = "".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines)
    env = {**os.environ, "XDG_DATA_HOME": str(db.parent / "data")}
    proc = subprocess.run(
        [COMMAND, "chat", "--jsonl", "--db", str(db), *extra],
        input=feed, capture_output=True, text=True, timeout=60, check=True, env=env,
    )  # fmt: skip
    return [json.loads(line) for line in proc.stdout.splitlines()]


def test_jsonl_journey_to_a_plan_card_survives_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "coach.db"
    first = run_jsonl(db, JOURNEY)
    assert len(first) == len(JOURNEY)
    assert [o.get("error") for o in first] == [None] * len(JOURNEY)
    assert first[0]["state"] == "onboarding.welcome"
    assert first[-1]["state"] == "conflict.opening"
    assert first[8]["state"] == "conflict.camera"  # "never" is a judgment: one gentle nudge
    assert "criticism" in first[8]["cues"] or "evaluation" in first[8]["cues"]
    reply = first[-1]["replies"][-1]
    assert {"text", "html", "buttons"} <= set(reply)
    assert [b["id"] for b in reply["buttons"][0]] == ["d1", "d2", "d3"]
    second = run_jsonl(db, FINISH)  # a new process: the conversation goes on from the file
    assert second[-1]["state"] == "conflict.plan"
    card = second[-1]["replies"][0]
    assert "Your repair plan with Robin" in card["text"]
    assert "<b>Your repair plan with Robin</b>" in card["html"]
    assert "Tomorrow" in card["text"]
    third = run_jsonl(db, [{"text": "/plans"}, {"text": "/export"}])
    assert "Your repair plan with Robin" in third[0]["replies"][0]["text"]
    saved = third[1]["replies"][-1]["text"]
    assert saved.startswith("Saved to ")
    path = Path(saved.removeprefix("Saved to "))
    assert path.is_relative_to(tmp_path / "data")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # readable by the user only
    doc = json.loads(path.read_text())  # for a person: the words they saw (tests/bot/test_export)
    assert doc["Repair plans"][0]["With"] == "Robin"
    assert doc["About you"]["Their name"] == "Robin"
    assert "Name it and own my part" in doc["Repair plans"][0]["Repair moves"]


def test_jsonl_bad_lines_get_errors_and_the_process_goes_on(tmp_path: Path) -> None:
    out = run_jsonl(
        tmp_path / "c.db",
        ["not json", {"press": "no-such-button"}, [1, 2], {"text": "/start"},
         {"text": "hi", "now": "yesterday"}, {"press": "Next", "now": "2026-11-27T09:00:00+01:00"},
         {"unsupported": "sticker"}, {"text": "x" * 10_000}],
    )  # fmt: skip
    assert [("error" in o) for o in out] == [True, True, True, False, True, False, False, False]
    assert out[5]["state"] == "onboarding.relationship"
    assert out[6]["state"] == "onboarding.relationship"
    assert (
        "only read text" in out[6]["replies"][0]["text"]
        or "pictures" in out[6]["replies"][0]["text"]
    )


def test_jsonl_reports_safety_and_never_logs_user_text(tmp_path: Path) -> None:
    proc = subprocess.run(
        [COMMAND, "chat", "--jsonl", "--db", str(tmp_path / "c.db")],
        input=json.dumps({"text": "SECRET-WORDS i want to end my life"}) + "\n",
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    out = json.loads(proc.stdout)
    assert out["safety"] == "self_harm"
    assert out["risk"] == {
        "kind": "self_harm",
        "who": "user",
        "label": "active_ideation",
        "sure": True,
        "score": out["risk"]["score"],
        "source": "pattern",
    }
    # A newcomer's country is not known: the international directory, never US numbers.
    assert out["state"] == "safety.country"
    text = " ".join(r["text"] for r in out["replies"])
    assert "findahelpline.com" in text and "988" not in text
    assert "SECRET-WORDS" not in proc.stderr


def chat(db: str, typed: str) -> str:
    """Type lines into `repair-coach chat` as a person would; return what it printed."""
    proc = subprocess.run(
        [COMMAND, "chat", "--db", db], input=typed, capture_output=True, text=True, timeout=60,
        check=True,
    )  # fmt: skip
    return proc.stdout


def test_interactive_chat_to_a_plan_card_then_back_again(tmp_path: Path) -> None:
    db = str(tmp_path / "coach.db")
    first = chat(db, "1\n2\nRobin\n2\nLondon\n1\n1\n"
                     "We argued about money. I raised my voice and left.\n"
                     "Robin went quiet\n/quit\n")  # fmt: skip
    assert "[1] Next" in first
    assert "[1] My child" in first and "[2] My partner" in first
    assert "Europe/London" in first
    assert "What happened" in first and "And what did you do?" in first
    assert "See you soon" in first
    second = chat(db, "I raised my voice at Robin and walked out\n1\nDone\nhurt, sad\ndone\n"
                      "next\nnext\nto be heard\n1\n3\n1\nnext\n1\nDone\n2\n4\n")  # fmt: skip
    assert "Here's where we were" in second
    assert "And what did you do?" in second
    assert "I heard “Hurt”, “Sadness” in that" in second
    assert "Your repair plan with Robin" in second
    assert "Tomorrow" in second
    third = chat(db, "/plans\n")
    assert "Your repair plan with Robin" in third.split("Here's where we were")[-1]


def test_in_memory_database_works(tmp_path: Path) -> None:
    out = run_jsonl(Path(":memory:"), [{"text": "/start"}, {"press": "next"}])
    assert out[-1]["state"] == "onboarding.relationship"


DAILY = [  # a partner's user in Berlin, reflections at 21:00
    {"text": "/start"}, {"press": "next"}, {"press": "partner"}, {"text": "Sam"},
    {"press": "yes"}, {"press": "own"}, {"text": "21:00"}, {"text": "Berlin"}, {"press": "yes"},
]  # fmt: skip


def test_jsonl_tick_says_what_is_due_and_only_once(tmp_path: Path) -> None:
    start = "2026-10-24T12:00:00+00:00"
    lines = [{**line, "now": start} for line in DAILY] + [
        {"tick": True, "now": "2026-10-24T18:59:00+00:00"},  # 20:59 in Berlin: not yet
        {"tick": True, "now": "2026-10-24T19:00:30+00:00"},  # 21:00 CEST
        {"tick": True, "now": "2026-10-24T19:05:00+00:00"},  # nothing twice
        {"text": "We laughed about the burnt toast", "now": "2026-10-24T19:06:00+00:00"},
        {"tick": True, "now": "2026-10-25T20:00:30+00:00"},  # 21:00 CET, after the change
    ]
    out = run_jsonl(tmp_path / "coach.db", lines)
    quiet, first, again, answered, after_change = out[-5:]
    assert quiet["replies"] == [] and quiet["due"] == []
    assert first["due"] == ["reflection"] and first["state"] == "daily.prompt"
    assert "Today's reflection" in first["replies"][0]["text"]
    assert [b["id"] for b in first["replies"][0]["buttons"][0]] == ["skip", "another", "pause",
                                                                     "retime"]  # fmt: skip
    assert again["replies"] == []
    assert answered["state"] == "menu.home"
    assert after_change["due"] == ["reflection"]
    assert after_change["replies"][0]["text"] != first["replies"][0]["text"]  # a new prompt
    journal = run_jsonl(tmp_path / "coach.db", [{"text": "/journal"}])
    assert "Reflection: “" in journal[0]["replies"][0]["text"]  # told apart by its own words


def test_interactive_chat_shows_what_came_due_while_it_was_closed(tmp_path: Path) -> None:
    db = tmp_path / "coach.db"
    now = datetime.now(UTC)  # the chat reads the real clock: a zone where it is about noon
    hours = (12 - now.hour + 11) % 24 - 11
    zone = f"UTC{'+' if hours >= 0 else '-'}{abs(hours):02d}:00"
    setup = [*DAILY[:6], {"text": "11:00"}, {"text": zone}, {"press": "yes"}]
    earlier = (now - timedelta(hours=2)).isoformat()  # about 10:00 there: before 11:00
    run_jsonl(db, [{**line, "now": earlier} for line in setup])
    shown = chat(str(db), "/quit\n")  # opened at about noon: the 11:00 reflection waits
    assert "came up while you were away" in shown
    assert "Today's reflection" in shown


REHEARSAL: list[dict[str, Any]] = [
    {"text": "/start"}, {"press": "next"}, {"press": "child"}, {"press": "baby"},
    {"text": "Leo"}, {"press": "no"}, {"text": "Dublin"}, {"press": "yes"},
    {"text": "/rehearse"}, {"press": "baby"}, {"press": "withdrawn"},
    {"text": "LOOK AT ME Leo!!"}, {"press": "wait"}, {"press": "wait"}, {"press": "wait"},
    {"press": "wait"}, {"press": "wait"}, {"text": "Oh, there you are!"},
    {"text": "I smile and coo back"}, {"text": "hi sweetie"}, {"text": "hello again, my love"},
    {"text": "there you are"}, {"text": "hi sweetie, I missed you"},
    {"text": "Oh, now you're back! I smile"}, {"text": "I coo back softly"},
]  # fmt: skip


def test_jsonl_rehearsal_reports_the_other_person_and_draws_the_turns(tmp_path: Path) -> None:
    out = run_jsonl(tmp_path / "c.db", REHEARSAL)
    assert [o.get("error") for o in out] == [None] * len(REHEARSAL)
    assert all("partner" not in o for o in out[:10])
    start, pushed = out[10]["partner"], out[11]["partner"]
    assert start == {"persona": "baby", "arousal": 7.0, "openness": 0.3, "connected": False}
    assert pushed["arousal"] > start["arousal"] and pushed["openness"] < start["openness"]
    assert "pressure" in out[11]["cues"]
    arousal = [o["partner"]["arousal"] for o in out[11:17]]
    assert arousal == sorted(arousal, reverse=True)  # waiting lets him settle
    done = next(o for o in out if o["state"] == "rehearsal.summary")
    assert done["partner"]["connected"] is True
    assert 0.0 <= done["partner"]["openness"] <= 1.0
    saved = done["replies"][-1]["text"]
    assert "You reconnected." in done["replies"][-2]["text"]
    path = Path(saved.removeprefix("Your chart is at "))
    assert "rehearsal" in path.name and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_in_memory_writes_nothing_unasked(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data")}
    feed = "".join(json.dumps(x) + "\n" for x in REHEARSAL)
    proc = subprocess.run(
        [COMMAND, "chat", "--jsonl", "--db", ":memory:"], cwd=tmp_path,
        input=feed, capture_output=True, text=True, timeout=60, check=True, env=env,
    )  # fmt: skip
    out = [json.loads(line) for line in proc.stdout.splitlines()]
    done = next(o for o in out if o["state"] == "rehearsal.summary")
    assert "so I didn't save the chart" in done["replies"][-1]["text"]
    assert list(tmp_path.iterdir()) == []  # no database, no data folder, no chart
