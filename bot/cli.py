"""`repair-coach chat | analyze | graph | content check`: all wiring in one place."""

from __future__ import annotations

import argparse
import gc
import json
import sys
from pathlib import Path

from bot.settings import Settings


def _content(settings: Settings, folder: str | None = None):
    from dialogue.content import Content

    root = folder or settings.content_dir
    return Content(Path(root) if root else None, settings.locale)


def _store(settings: Settings, db: str | None = None):  # type: ignore[no-untyped-def]  # lazy import
    from bot.storage import Sealer, open_store
    from bot.storage.crypto import SealError

    key = settings.encryption_key.get_secret_value() if settings.encryption_key else ""
    try:
        sealer = Sealer.from_setting(key)
    except SealError as err:  # the message names the key's position, never the key
        raise Misconfigured(f"REPAIR_COACH_ENCRYPTION_KEY: {err}") from err
    return open_store(db or settings.database, settings.database_url, sealer)


class Misconfigured(Exception):
    """A setting that cannot work: one line for the user, exit code 2."""


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    """Chat with the coach in the terminal (or speak JSON lines with --jsonl)."""
    from bot.console import Console, interactive, jsonl
    from dialogue.engine import Engine

    engine = Engine(_content(settings), default_country=settings.country)
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

    loc = _content(settings).locale(args.locale or settings.locale)
    analyzer = Analyzer(loc.data)
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

    loc = _content(settings, args.dir).locale(args.locale or settings.locale)
    try:
        train(loc.folder, loc.data, print)
    except TrainError as err:
        print(f"train: {err}", file=sys.stderr)
        return 2
    return 0


def cmd_graph(args: argparse.Namespace, settings: Settings) -> int:
    """Print the flows as one Mermaid state diagram per flow."""
    from bot.graph import mermaid

    print(mermaid(args.flow))
    return 0


def cmd_content_check(args: argparse.Namespace, settings: Settings) -> int:
    """Check every template, key, label and limit in every locale."""
    from dialogue.check import check
    from dialogue.content import ContentError

    try:
        content = _content(settings, args.dir)
        problems = check(content)
    except ContentError as err:
        problems = [str(err)]
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


def parser() -> argparse.ArgumentParser:
    """The command line."""
    p = argparse.ArgumentParser(prog="repair-coach", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    chat = sub.add_parser("chat", help=cmd_chat.__doc__)
    chat.add_argument("--db", help='SQLite file, or ":memory:" (default: your data folder)')
    chat.add_argument("--user", default="local", help="whose conversation (default: local)")
    chat.add_argument("--locale", help="language for a new conversation (default: en)")
    chat.add_argument("--jsonl", action="store_true", help="JSON lines on stdin and stdout")
    chat.set_defaults(func=cmd_chat)
    run = sub.add_parser("run", help=cmd_run.__doc__)
    run.add_argument("--db", help="SQLite file (default: your data folder)")
    run.add_argument("--webhook", action="store_true", help="serve a webhook instead of polling")
    run.add_argument("--host", help="webhook: address to listen on (default 127.0.0.1)")
    run.add_argument("--port", type=int, help="webhook: port to listen on (default 8443)")
    run.add_argument("--url", help="webhook: the public URL to register with Telegram")
    run.set_defaults(func=cmd_run)
    rekey = sub.add_parser("rekey", help=cmd_rekey.__doc__)
    rekey.add_argument("--db", help="SQLite file (default: your data folder)")
    rekey.set_defaults(func=cmd_rekey)
    analyze = sub.add_parser("analyze", help=cmd_analyze.__doc__)
    analyze.add_argument("--locale")
    analyze.set_defaults(func=cmd_analyze)
    train = sub.add_parser("train", help=cmd_train.__doc__)
    train.add_argument("--locale")
    train.add_argument("--dir", help="a content folder (default: the checkout's content/)")
    train.set_defaults(func=cmd_train)
    graph = sub.add_parser("graph", help=cmd_graph.__doc__)
    graph.add_argument("--flow", help="only this flow")
    graph.set_defaults(func=cmd_graph)
    content = sub.add_parser("content", help="content tools")
    csub = content.add_subparsers(dest="content_command", required=True)
    check = csub.add_parser("check", help=cmd_content_check.__doc__)
    check.add_argument("--dir", help="a content folder (default: the shipped one)")
    check.set_defaults(func=cmd_content_check)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    from bot.storage import StorageError

    args = parser().parse_args(argv)
    try:
        return int(args.func(args, Settings()))
    except (Misconfigured, StorageError) as err:
        print(f"repair-coach: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
