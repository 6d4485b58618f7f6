"""The command line: analyze, graph, content check."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from bot.graph import PART_STATES
from bot.settings import Misconfigured
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
    diagrams = out.split("```mermaid")[1:]
    titles = [d.split("title: ")[1].split("\n")[0] for d in diagrams]
    assert {t.split(" (")[0] for t in titles} == {f.name for f in FLOWS}  # real titles, each flow
    assert "conflict (1 of 3)" in titles and "conflict (3 of 3)" in titles  # the big one split
    for flow in FLOWS:  # every state drawn in some part; no part over PART_STATES of its own
        drawn = "".join(d for d, t in zip(diagrams, titles, strict=True) if t.startswith(flow.name))
        assert all(f'state "{s.name}"' in drawn for s in flow.steps), flow.name
    assert all(d.count('state "') <= PART_STATES + 8 for d in diagrams)
    # A guarded transition reads apart from the plain one on the same trigger.
    assert "what_happened --> camera: answer if judgmental" in out
    assert "what_happened --> their_side: answer\n" in out
    assert out.count("[*] -->") == len(FLOWS)  # later parts go on from the part before


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


# -- settings and command line: one line naming the setting and the fix, exit code 2 --------


def _chat(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`repair-coach chat` with an empty stdin, in a clean environment."""
    base = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "d")}
    return subprocess.run([COMMAND, "chat", *args], env={**base, **env}, input="", cwd=tmp_path,
                          capture_output=True, text=True, timeout=60, check=False)  # fmt: skip


def _one_line(proc: subprocess.CompletedProcess[str], *names: str) -> str:
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr and all(n in lines[0] for n in names), lines[0]
    return lines[0]


@pytest.mark.parametrize(
    ("args", "env", "names"),
    [
        ((), {"REPAIR_COACH_LOCALE": "xx"}, ("REPAIR_COACH_LOCALE", "'xx'", "en")),
        (("--locale", "fr"), {}, ("--locale", "'fr'", "use one of: en")),
        ((), {"REPAIR_COACH_WEBHOOK_PORT": "abc"}, ("REPAIR_COACH_WEBHOOK_PORT", "integer")),
        ((), {"REPAIR_COACH_DATABASE_URL": "mysql://u:pw-secret@h/db"},
         ("REPAIR_COACH_DATABASE_URL", "mysql", "postgresql://", "sqlite:///")),
        ((), {"REPAIR_COACH_DATABASE_URL": "postgresql://postgres@127.0.0.1:1/x"},
         ("REPAIR_COACH_DATABASE_URL", "cannot connect")),
        ((), {"REPAIR_COACH_CONTENT_DIR": "/no/such/folder"}, ("REPAIR_COACH_CONTENT_DIR",)),
        ((), {"REPAIR_COACH_ENCRYPTION_KEY": "not-a-key"}, ("REPAIR_COACH_ENCRYPTION_KEY",)),
    ],
)  # fmt: skip
def test_a_setting_that_cannot_work_ends_in_one_line(
    tmp_path: Path, args: tuple[str, ...], env: dict[str, str], names: tuple[str, ...]
) -> None:
    line = _one_line(_chat(tmp_path, "--db", ":memory:", *args, **env)
                     if "REPAIR_COACH_DATABASE_URL" not in env else _chat(tmp_path, *args, **env),
                     *names)  # fmt: skip
    assert "pw-secret" not in line and "not-a-key" not in line  # secrets are never echoed


def test_an_unwritable_db_is_named_with_the_fix(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")  # a folder that is a file: even root cannot write there
    _one_line(_chat(tmp_path, "--db", str(tmp_path / "a-file" / "c.db")), "--db", "a-file")


def test_sqlite_urls_are_accepted_and_db_on_the_command_line_wins(tmp_path: Path) -> None:
    from bot.settings import Settings, database  # noqa: PLC0415

    url = Settings(database_url=f"sqlite:///{tmp_path}/u.db")
    assert database(url, None) == (f"{tmp_path}/u.db", "", "REPAIR_COACH_DATABASE_URL")
    assert database(url, ":memory:") == (":memory:", "", "--db")
    pg = Settings(database_url="postgresql+psycopg://postgres@127.0.0.1/test")
    assert database(pg, None)[1].startswith("postgresql+psycopg://")
    flag = f"--db={tmp_path}/flag.db"
    proc = _chat(tmp_path, "--jsonl", flag,
                 REPAIR_COACH_DATABASE_URL="mysql://nowhere/x")  # fmt: skip
    assert proc.returncode == 0 and (tmp_path / "flag.db").exists(), proc.stderr
    proc = _chat(tmp_path, "--jsonl", REPAIR_COACH_DATABASE_URL=f"sqlite:///{tmp_path}/url.db")
    assert proc.returncode == 0 and (tmp_path / "url.db").exists(), proc.stderr


def test_version_help_and_refused_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out.startswith("repair-coach ")
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for command in ("chat", "run", "rekey", "analyze", "train", "graph", "content"):
        assert f"    {command} " in out
    assert "wiring" not in out  # words for users, not for the code's readers
    with pytest.raises(SystemExit) as done:
        main(["chat", "--user", "  "])
    assert done.value.code == 2 and "--user" in capsys.readouterr().err
    assert main(["graph", "--flow", "nope"]) == 2
    err = capsys.readouterr().err
    assert "'nope'" in err and "conflict" in err and len(err.strip().splitlines()) == 1


def test_analyze_on_a_terminal_says_it_reads_stdin(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    class Typed(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdin", Typed("hello\n"))
    assert main(["analyze"]) == 0
    out, err = capsys.readouterr()
    assert "stdin" in err and json.loads(out)["text"] == "hello"
    monkeypatch.setattr(sys, "stdin", io.StringIO("hello\n"))
    assert main(["analyze"]) == 0
    assert capsys.readouterr().err == ""  # piped in: nothing but JSON


def test_the_readme_draws_the_flows_as_they_are(capsys: pytest.CaptureFixture[str]) -> None:
    """README's diagrams are `repair-coach graph`'s output: a changed flow changes them."""
    assert main(["graph"]) == 0
    drawn = capsys.readouterr().out.strip()
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert drawn in readme


def test_every_readme_link_works_from_a_clone() -> None:
    """Links to files in the repository exist; nothing points outside it (../shared)."""
    import re  # noqa: PLC0415

    root = Path(__file__).resolve().parents[2]
    for doc in [
        root / "README.md",
        *sorted((root / "docs").glob("*.md")),
        root / "content/README.md",
    ]:
        text = doc.read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
            if target.startswith(("http://", "https://", "mailto:")):
                continue
            assert not target.startswith("../") or (doc.parent / target).resolve().is_relative_to(
                root
            ), (doc, target)
            assert (doc.parent / target).exists(), (doc.name, target)


# -- Ctrl-C: no traceback, exit code 130 -------------------------------------------------------


def test_ctrl_c_in_analyze_ends_quietly_with_130(tmp_path: Path) -> None:
    """SIGINT while `analyze` waits for the next line of stdin (after answering one)."""
    import signal  # noqa: PLC0415

    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    proc = subprocess.Popen([COMMAND, "analyze"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env, text=True)  # fmt: skip
    try:
        assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
        proc.stdin.write("you never listen\n")
        proc.stdin.flush()
        assert json.loads(proc.stdout.readline())["text"] == "you never listen"  # in the loop
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 130
        err = proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for pipe in (proc.stdin, proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
    assert "Traceback" not in err and "KeyboardInterrupt" not in err


@pytest.mark.parametrize("command", [["chat", "--db", ":memory:"], ["run"], ["content", "check"]])
def test_ctrl_c_during_start_up_ends_quietly_with_130(
    command: list[str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """Ctrl-C while the content loads (the slow part of every start-up)."""
    import dialogue.content  # noqa: PLC0415

    def interrupted(*_: object, **__: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "1:TOKEN-x")
    monkeypatch.setenv("REPAIR_COACH_DATABASE", str(tmp_path / "c.db"))  # not the data folder
    monkeypatch.setattr(dialogue.content.Content, "__init__", interrupted)
    assert main(command) == 130
    assert "Traceback" not in capsys.readouterr().err


# -- content folders and database URLs that cannot work: the setting named, the fix given -----


@pytest.mark.parametrize("inside", [[], ["bot", "docs"]])
def test_a_content_folder_without_content_names_the_setting(
    tmp_path: Path, inside: list[str]
) -> None:
    folder = tmp_path / "wrong"
    for name in ["", *inside]:
        (folder / name).mkdir(parents=True, exist_ok=True)
    line = _one_line(_chat(tmp_path, "--db", ":memory:", REPAIR_COACH_CONTENT_DIR=str(folder)),
                     "REPAIR_COACH_CONTENT_DIR", str(folder), "unset it")  # fmt: skip
    assert "REPAIR_COACH_LOCALE" not in line  # the language is not what is wrong


def test_content_check_names_dir_for_a_folder_without_content(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["content", "check", "--dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--dir" in err[0] and str(tmp_path) in err[0]
    (tmp_path / "fr").mkdir()
    (tmp_path / "fr" / "common.yaml").write_text("hello: 'Bonjour'\n")
    assert main(["content", "check", "--dir", str(tmp_path)]) == 2  # a language, not English
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--dir" in err[0] and "'en'" in err[0] and "fr" in err[0]


@pytest.mark.parametrize("url", ["sqlite://", "sqlite://coach.db", "sqlite:"])
def test_a_sqlite_url_without_a_path_says_so_in_one_line(tmp_path: Path, url: str) -> None:
    line = _one_line(_chat(tmp_path, REPAIR_COACH_DATABASE_URL=url), "REPAIR_COACH_DATABASE_URL",
                     "sqlite:///")  # fmt: skip
    assert "not a database" not in line and "names no file" in line


def test_database_urls_read_as_users_write_them() -> None:
    from bot.settings import Settings, database  # noqa: PLC0415

    assert database(Settings(database_url="SQLite:///a.db"), None)[0] == "a.db"
    assert database(Settings(database_url="sqlite:///:memory:"), None)[0] == ":memory:"
    with pytest.raises(Misconfigured, match=r"^--db is empty: give the path of a file"):
        database(Settings(), "")  # SQLite would take it as a temporary file
    with pytest.raises(Misconfigured, match=r"^REPAIR_COACH_DATABASE is empty"):
        database(Settings(database=" "), None)
    with pytest.raises(Misconfigured) as refused:  # not a URL: nothing of it is echoed
        database(Settings(database_url="user:pw-secret@host"), None)
    assert "malformed" in str(refused.value) and "secret" not in str(refused.value)
