"""kill -9 in the middle of a conversation: on restart the user goes on from the last turn."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
COMMAND = str(Path(sys.executable).parent / "repair-coach")
STEPS = [{"text": "/start"}, {"press": "next"}, {"press": "partner"}, {"text": "Robin"},
         {"press": "no"}, {"text": "Oslo"}, {"press": "yes"}, {"press": "new"},
         {"text": "We argued about the holidays."}, {"text": "Robin left the room"}]  # fmt: skip


def test_chat_killed_mid_conversation_resumes_from_the_last_turn(tmp_path: Path) -> None:
    db = str(tmp_path / "c.db")
    proc = subprocess.Popen(
        [COMMAND, "chat", "--jsonl", "--db", db], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        text=True, env={**os.environ, "XDG_DATA_HOME": str(tmp_path)},
    )  # fmt: skip
    assert proc.stdin and proc.stdout
    states = []
    for step in STEPS[:7]:
        proc.stdin.write(json.dumps(step) + "\n")
        proc.stdin.flush()
        states.append(json.loads(proc.stdout.readline())["state"])  # the turn is stored by now
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    proc.stdin.close()
    proc.stdout.close()
    assert states[-1] == "menu.home"
    again = subprocess.run(
        [COMMAND, "chat", "--jsonl", "--db", db], capture_output=True, text=True, timeout=60,
        input="".join(json.dumps(s) + "\n" for s in STEPS[7:]), check=True,
    )  # fmt: skip
    out = [json.loads(line) for line in again.stdout.splitlines()]
    assert [o["state"] for o in out] == ["conflict.what_happened", "conflict.their_side",
                                         "conflict.my_part"]  # fmt: skip
