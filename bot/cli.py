"""The command line: chat in the terminal, run the Telegram bot, and the tools around them.

All wiring in one place. Every misconfiguration ends in one line that names the setting and
the fix, with exit code 2 (Misconfigured, caught in main).
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import sys
from pathlib import Path

from bot.settings import Misconfigured, Settings, database, load


def _content(settings: Settings, folder: str | None = None, locale: str | None = None):  # type: ignore[no-untyped-def]  # lazy import
    """The content; a language it does not have, chosen on the command line or in the
    environment, is a setting to fix (never a silent fall back to English), and so is a
    content folder (`--dir`, REPAIR_COACH_CONTENT_DIR) that holds no content."""
    from dialogue.content import Content, content_root

    root = Path(folder or settings.content_dir or content_root())
    named = "--dir" if folder else "REPAIR_COACH_CONTENT_DIR" if settings.content_dir else ""
    fix = "leave it out" if folder else "unset it"
    if named and not root.is_dir():
        raise Misconfigured(f"{named}: no folder at {root}; point it at a content folder "
                            f"(one folder per language, like content/ in the checkout) or "
                            f"{fix}")  # fmt: skip
    have = languages(root)
    if named and not have:
        raise Misconfigured(f"{named}: no content in {root} (no language folder of .yaml files, "
                            f"like en/); point it at a content folder, such as the checkout's "
                            f"content/, or {fix}")  # fmt: skip
    chosen_by = (("--locale", locale), ("REPAIR_COACH_LOCALE", settings.locale))
    for setting, chosen in chosen_by:
        if have and chosen is not None and chosen not in have:
            if named and setting != "--locale" and "locale" not in settings.model_fields_set:
                raise Misconfigured(  # the default language, not chosen: the folder is wrong
                    f"{named}: no content for the default language {chosen!r} in {root} (it "
                    f"has: {', '.join(have)}); point it at a folder with {chosen}/, or set "
                    "REPAIR_COACH_LOCALE to one it has"
                )
            raise Misconfigured(
                f"{setting} {chosen!r}: no such language here; use one of: {', '.join(have)}"
            )
    return Content(root, settings.locale)


def languages(root: Path) -> list[str]:
    """The languages a content folder holds: its folders with .yaml files in them."""
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and any(p.glob("*.yaml")))


def _store(settings: Settings, db: str | None = None):  # type: ignore[no-untyped-def]  # lazy import
    """The store the settings name; a database that cannot be opened is a setting to fix."""
    from bot.storage import Sealer, StorageError, open_store
    from bot.storage.crypto import SealError

    key = settings.encryption_key.get_secret_value() if settings.encryption_key else ""
    try:
        sealer = Sealer.from_setting(key)
    except SealError as err:  # the message names the key's position, never the key
        raise Misconfigured(f"REPAIR_COACH_ENCRYPTION_KEY: {err}") from err
    path, url, setting = database(settings, db)
    pool = logging.getLogger("psycopg.pool")  # it logs each failed try: one line says it all
    level = pool.level
    pool.setLevel(logging.CRITICAL)
    try:
        return open_store(path, url, sealer)
    except StorageError as err:
        fix = "check the server and the URL" if url else "give a file in a folder you can write"
        raise Misconfigured(f"{setting}: {str(err).splitlines()[0]}; {fix}") from err
    finally:
        pool.setLevel(level)


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    """Chat with the coach in the terminal (or speak JSON lines with --jsonl)."""
    from bot.console import Console, jsonl
    from bot.terminal import interactive
    from dialogue.engine import Engine

    engine = Engine(_content(settings, locale=args.locale), default_country=settings.country)
    store = _store(settings, args.db)
    console = Console(engine, store, args.user, args.locale or settings.locale)
    try:
        return jsonl(console) if args.jsonl else interactive(console)
    finally:
        store.close()


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    """Run the Telegram bot: long polling, or a webhook server with --webhook."""
    import logging

    from bot import redact
    from bot.coach import Coach
    from bot.storage import KeyRefused, StorageError
    from bot.telegram_adapter.app import run
    from dialogue.engine import Engine

    if args.webhook:
        settings = settings.model_copy(
            update={k: v for k, v in (("webhook_host", args.host), ("webhook_port", args.port),
                                      ("webhook_url", args.url)) if v is not None}
        )  # fmt: skip
    if not settings.telegram_bot_token:
        print("repair-coach run needs TELEGRAM_BOT_TOKEN (from @BotFather)", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    redact.install(settings.telegram_bot_token.get_secret_value())
    logging.getLogger("httpx").setLevel(logging.WARNING)  # its INFO lines carry the token
    for chatty in ("transitions", "apscheduler"):  # a line per turn or job: not for operators
        logging.getLogger(chatty).setLevel(logging.WARNING)
    store = _store(settings, args.db)
    try:
        store.check_key()
        store.claim_runner()
    except StorageError as err:  # one line and exit code 2, from main()
        store.close()
        if isinstance(err, KeyRefused):
            raise Misconfigured(f"REPAIR_COACH_ENCRYPTION_KEY: {err}") from err
        raise
    if not store.sealer.active:
        logging.getLogger("repair-coach").warning(
            "REPAIR_COACH_ENCRYPTION_KEY is not set: what users write is stored unencrypted"
        )
    coach = Coach(Engine(_content(settings), default_country=settings.country), store)
    coach.engine.warm()  # the language layer built once, before the first update
    # Everything loaded so far lives as long as the process: keep it out of the collector's
    # full passes (a few hundred thousand objects of models and word lists).
    gc.collect()
    gc.freeze()
    try:
        import uvloop  # a faster event loop where it is installed (Linux, macOS)

        uvloop.install()
    except ImportError:
        pass
    # Everything loaded at start-up lives for the whole run: keep the collector off it, and
    # collect the young generation less often (PTB makes many short-lived objects per update).
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    try:
        return run(settings, coach, args.webhook)
    finally:
        store.close()


def cmd_rekey(args: argparse.Namespace, settings: Settings) -> int:
    """Re-encrypt every stored text with the newest key (the first in the setting)."""
    store = _store(settings, args.db)
    try:
        if not store.sealer.active:
            print("rekey needs REPAIR_COACH_ENCRYPTION_KEY", file=sys.stderr)
            return 2
        print(f"rekey: {store.rekey()} rows re-encrypted with the newest key")
    finally:
        store.close()
    return 0


def cmd_analyze(args: argparse.Namespace, settings: Settings) -> int:
    """Print the cues, emotions and crisis kinds found in each line of stdin."""
    from dialogue.language import Analyzer

    loc = _content(settings, locale=args.locale).locale(args.locale or settings.locale)
    analyzer = Analyzer(loc.data)
    if sys.stdin.isatty():  # typed by hand: say what to do, on stderr so the output stays JSON
        print("analyze reads lines from stdin: type one and press Enter (Ctrl-D ends), or pipe "
              "a file in: repair-coach analyze < lines.txt", file=sys.stderr)  # fmt: skip
    for line in sys.stdin:
        text = line.rstrip("\n")
        a = analyzer.analyze(text)
        emotions = [{"emotion": e, "family": analyzer.emotion_family[e]} for e in a.emotions]
        lead = a.lead
        row = {"text": text, "cues": list(a.cues), "emotions": emotions,
               "crisis": a.risk, "crisis_all": list(a.crisis),
               "risk": lead.as_dict() if lead else None,
               "risks": [r.as_dict() for r in a.risks],
               "stems": analyzer.stems(text)}  # fmt: skip
        print(json.dumps(row, ensure_ascii=False), flush=True)
    return 0


def cmd_train(args: argparse.Namespace, settings: Settings) -> int:
    """Fit the risk and cue models on the corpus; write content/<locale>/model/ ([train] extra)."""
    from bot.train import TrainError, train

    loc = _content(settings, args.dir, args.locale).locale(args.locale or settings.locale)
    try:
        train(loc.folder, loc.data, print)
    except TrainError as err:
        print(f"train: {err}", file=sys.stderr)
        return 2
    return 0


def cmd_graph(args: argparse.Namespace, settings: Settings) -> int:
    """Print the flows as one Mermaid state diagram per flow."""
    from bot.graph import UnknownFlow, mermaid

    try:
        print(mermaid(args.flow))
    except UnknownFlow as err:
        raise Misconfigured(f"--flow: {err}") from err
    return 0


def cmd_content_check(args: argparse.Namespace, settings: Settings) -> int:
    """Check every template, key, label and limit in every locale."""
    from dialogue.check import check
    from dialogue.content import ContentError

    try:
        content = _content(settings, args.dir)
        problems = check(content)
    except ContentError as err:  # every broken text and file, a line each
        problems = str(err).splitlines()
        content = None
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        print(f"content check: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    assert content is not None
    count = sum(len(loc.templates) for loc in content.locales.values())
    print(f"content check: {len(content.locales)} locale(s), {count} texts, all fine")
    return 0


def _user(value: str) -> str:
    """`--user`: a name for whose conversation it is; empty or blank is refused."""
    if not value.strip():
        raise argparse.ArgumentTypeError("give a name, e.g. --user sam (the default is local)")
    return value.strip()


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("repair-coach")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"


HELP = {
    "chat": "talk with the coach here in the terminal (your place is kept between runs)",
    "run": "run the coach as a Telegram bot (needs TELEGRAM_BOT_TOKEN)",
    "rekey": "re-encrypt everything stored with the newest encryption key",
    "analyze": "show what the coach hears in each line typed or piped in, as JSON",
    "train": "refit the risk and cue models from the corpus (for developers)",
    "graph": "draw the conversation flows as Mermaid diagrams",
    "content": "content check: check every text, button and limit in the content folder",
}
SETTINGS = "Settings come from REPAIR_COACH_* environment variables or a .env file: see README.md."


def parser() -> argparse.ArgumentParser:
    """The command line."""
    p = argparse.ArgumentParser(
        prog="repair-coach", epilog=SETTINGS,
        description="A coach for the moments after a conflict with someone close: rupture, "
        "noticing, repair, and practice.",
    )  # fmt: skip
    p.add_argument("--version", action="version", version=f"repair-coach {_version()}")
    sub = p.add_subparsers(dest="command", required=True, metavar="command")
    chat = sub.add_parser("chat", help=HELP["chat"], description=cmd_chat.__doc__)
    chat.add_argument("--db", help='SQLite file, or ":memory:" to keep nothing (default: a file '
                      "in your data folder; wins over REPAIR_COACH_DATABASE_URL)")  # fmt: skip
    chat.add_argument("--user", default="local", type=_user,
                      help="whose conversation, for several people on one computer "
                      "(default: local)")  # fmt: skip
    chat.add_argument("--locale", help="language for a new conversation (default: en)")
    chat.add_argument("--jsonl", action="store_true", help="JSON lines on stdin and stdout")
    chat.set_defaults(func=cmd_chat)
    run = sub.add_parser("run", help=HELP["run"], description=cmd_run.__doc__)
    run.add_argument("--db", help="SQLite file (default: your data folder)")
    run.add_argument("--webhook", action="store_true", help="serve a webhook instead of polling")
    run.add_argument("--host", help="webhook: address to listen on (default 127.0.0.1)")
    run.add_argument("--port", type=int, help="webhook: port to listen on (default 8443)")
    run.add_argument("--url", help="webhook: the public URL to register with Telegram")
    run.set_defaults(func=cmd_run)
    rekey = sub.add_parser("rekey", help=HELP["rekey"], description=cmd_rekey.__doc__)
    rekey.add_argument("--db", help="SQLite file (default: your data folder)")
    rekey.set_defaults(func=cmd_rekey)
    analyze = sub.add_parser("analyze", help=HELP["analyze"], description=cmd_analyze.__doc__)
    analyze.add_argument("--locale")
    analyze.set_defaults(func=cmd_analyze)
    train = sub.add_parser("train", help=HELP["train"], description=cmd_train.__doc__)
    train.add_argument("--locale")
    train.add_argument("--dir", help="a content folder (default: the checkout's content/)")
    train.set_defaults(func=cmd_train)
    graph = sub.add_parser("graph", help=HELP["graph"], description=cmd_graph.__doc__)
    graph.add_argument("--flow", help="only this flow")
    graph.set_defaults(func=cmd_graph)
    content = sub.add_parser("content", help=HELP["content"])
    csub = content.add_subparsers(dest="content_command", required=True, metavar="check")
    check = csub.add_parser("check", help=cmd_content_check.__doc__)
    check.add_argument("--dir", help="a content folder (default: the shipped one)")
    check.set_defaults(func=cmd_content_check)
    return p


INTERRUPTED = 130  # the shell's code for a command ended by Ctrl-C (128 + SIGINT)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script. Ctrl-C at any point (start-up, a command's work)
    ends it quietly with exit code 130, never a traceback."""
    args = parser().parse_args(argv)
    try:
        from bot.storage import StorageError  # slow to import: inside the Ctrl-C guard
        from dialogue.content import ContentError

        try:
            return int(args.func(args, load()))
        except (Misconfigured, StorageError, ContentError) as err:
            print(f"repair-coach: {str(err).splitlines()[0]}", file=sys.stderr)
            return 2
    except KeyboardInterrupt:
        print(file=sys.stderr)  # the shell's prompt on a line of its own after the ^C
        return INTERRUPTED


if __name__ == "__main__":
    raise SystemExit(main())
