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
