"""The command line: analyze, graph, content check."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from dialogue.flows import FLOWS

COMMAND = str(Path(sys.executable).parent / "repair-coach")


def test_analyze_reads_lines_and_prints_json() -> None:
    proc = subprocess.run(
        [COMMAND, "analyze"], input="you never listen\nI could kill for a coffee\nkms\n",
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    rows = [json.loads(x) for x in proc.stdout.splitlines()]
    assert [r["text"] for r in rows] == ["you never listen", "I could kill for a coffee", "kms"]
    assert "criticism" in rows[0]["cues"]
    assert rows[1]["crisis"] is None
    assert rows[2]["crisis"] == "self_harm"


def test_analyze_maps_emotions_to_families(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("I felt ashamed and angry\n"))
    assert main(["analyze"]) == 0
    row = json.loads(capsys.readouterr().out)
    assert row["emotions"] == [
        {"emotion": "shame", "family": "inhibitory"},
        {"emotion": "anger", "family": "core"},
    ]


def test_graph_draws_every_flow(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["graph"]) == 0
    out = capsys.readouterr().out
    assert out.count("```mermaid") == len(FLOWS)
    assert "what_happened --> camera: answer" in out
    assert "stateDiagram-v2" in out


def test_content_check_passes_on_the_shipped_content(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["content", "check"]) == 0
    assert "all fine" in capsys.readouterr().out


def test_content_check_fails_loudly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "common.yaml").write_text("stale: '{{ broken'\n")
    assert main(["content", "check", "--dir", str(tmp_path)]) == 1
    assert "common.stale" in capsys.readouterr().err


def _run(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """`repair-coach run` on a SQLite file, with a Bot API that is never reached."""
    base = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "TELEGRAM_BOT_TOKEN": "1:TOKEN-x",
            "TELEGRAM_API_BASE_URL": "http://127.0.0.1:9",
            "REPAIR_COACH_DATABASE": str(tmp_path / "c.db")}  # fmt: skip
    return subprocess.run([COMMAND, "run"], env={**base, **env}, capture_output=True, text=True,
                          timeout=60, check=False)  # fmt: skip


def test_keys_that_cannot_work_stop_run_in_one_line(tmp_path: Path) -> None:
    from bot.storage import Sealer, SQLiteStore  # noqa: PLC0415
    from bot.storage.crypto import new_key  # noqa: PLC0415

    key, other = new_key(), new_key()
    store = SQLiteStore(tmp_path / "c.db", Sealer([key]))
    store.check_key()
    store.close()
    for value, says in ((other, "none of the configured keys"), ("", "no key is configured"),
                        ("abc" + key[3:-6], "key 1 is not a Fernet key")):  # fmt: skip
        proc = _run(tmp_path, REPAIR_COACH_ENCRYPTION_KEY=value)
        assert proc.returncode == 2, proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and "REPAIR_COACH_ENCRYPTION_KEY" in lines[0] and says in lines[0]
        assert key[5:-6] not in proc.stderr and (not value or value[5:-6] not in proc.stderr)


def test_a_second_run_on_one_sqlite_file_is_refused(tmp_path: Path) -> None:
    from bot.storage import SQLiteStore  # noqa: PLC0415

    holder = SQLiteStore(tmp_path / "c.db")
    holder.claim_runner()
    try:
        proc = _run(tmp_path)
        assert proc.returncode == 2
        assert "several workers need PostgreSQL" in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1
    finally:
        holder.close()
    assert oct((tmp_path / "c.db").stat().st_mode & 0o777) == oct(0o600)  # private to its owner


def test_the_token_is_masked_in_every_record() -> None:
    import logging  # noqa: PLC0415

    from bot.redact import RedactToken  # noqa: PLC0415

    token = "123456:ABCdef-SECRET-part"
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "url %s", (f"/bot{token}/x",),
                               None)  # fmt: skip
    try:
        raise ValueError(f"at /bot{token}")
    except ValueError:
        import sys as _sys  # noqa: PLC0415

        record.exc_info = _sys.exc_info()
    assert RedactToken(token).filter(record)
    text = logging.Formatter().format(record)
    assert "SECRET" not in text and "<token>" in text
