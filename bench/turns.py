"""Turn costs: the state machine alone, engine.handle, handle + rendering, and JSON lines + SQLite.

Run: python bench/turns.py [--rounds N]. Prints figures; asserts nothing.
Targets (issue 2): state-machine part <= 30 us a turn; a turn with rendering <= 300 us.
A rehearsal turn (issue 11: the simulated person's reply and a coaching note) is printed
beside the coaching turn, against the same 300 us budget.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import yaml

from bot.console import Console, jsonl
from bot.storage import SQLiteStore
from dialogue.content import Content
from dialogue.engine import Ctx, Engine
from dialogue.events import Event, Press, Unsupported, parse_text
from dialogue.language import normalize
from dialogue.session import Session

NOW = datetime(2026, 11, 27, 18, 30, tzinfo=UTC)
CONVERSATIONS = Path(__file__).resolve().parents[1] / "tests/dialogue/conversations"
SCRIPT = CONVERSATIONS / "toddler_to_plan.yaml"
REHEARSAL = CONVERSATIONS / "rehearsal_peekaboo.yaml"


def events(script: Path = SCRIPT) -> list[Event]:
    """A scripted conversation's events (by default newcomer to plan, 41 turns)."""
    out: list[Event] = []
    for step in yaml.safe_load(script.read_text())["steps"]:
        if "text" in step:
            out.append(parse_text(str(step["text"])))
        elif "press" in step:
            out.append(Press(str(step["press"])))
        else:
            out.append(Unsupported(step["unsupported"]))
    return out


def per_turn(label: str, seconds: list[float], turns: int) -> float:
    """Print the median cost of one turn over the rounds (and the best round's, the code's cost
    with the least noise from the host); return the median in microseconds."""
    us = statistics.median(seconds) / turns * 1e6
    best = min(seconds) / turns * 1e6
    print(f"{label:<48} {us:9.1f} us/turn  {1e6 / us:10,.0f} turns/s  (best round {best:.1f})")
    return us


def bench_machine(engine: Engine, rounds: int) -> float:
    """Fire the shared machine's trigger on a per-turn model: the state-machine part alone."""
    flow = engine.flows["conflict"]
    session = Session("m", seed=1)
    session.state = "conflict.their_side"
    event = flow.machine.events["answer"]
    n = 2_000
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(n):
            ctx = Ctx(engine, session, NOW)
            ctx.state = "their_side"
            event.trigger(ctx)
        times.append(time.perf_counter() - start)
    return per_turn("shared Machine: new model + trigger", times, n)


def bench_engine(engine: Engine, content: Content, rounds: int, render: bool) -> float:
    """engine.handle over the whole scripted conversation (and rendering every reply)."""
    evs = events()
    times = []
    for r in range(rounds):
        session = Session(f"b{r}", seed=r)
        normalize.cache_clear()  # every round reads the words afresh, as with real users
        start = time.perf_counter()
        for ev in evs:
            turn = engine.handle(session, ev, NOW)
            session = turn.session
            if render:
                for reply in turn.replies:
                    content.render(reply, "en")
        times.append(time.perf_counter() - start)
    label = "engine.handle + render (Telegram HTML)" if render else "engine.handle (no render)"
    return per_turn(label, times, len(evs))


def bench_rehearsal(engine: Engine, content: Content, rounds: int) -> float:
    """The rehearsal turns of the peek-a-boo script (both scenes), handled and rendered; the
    way there (onboarding, the picks) is not timed."""
    evs = events(REHEARSAL)
    times, timed = [], 0
    for r in range(rounds):
        session = Session(f"r{r}", seed=r)
        normalize.cache_clear()
        spent, timed = 0.0, 0
        for ev in evs:
            practising = session.state == "rehearsal.practice"
            start = time.perf_counter()
            turn = engine.handle(session, ev, NOW)
            for reply in turn.replies:
                content.render(reply, "en")
            if practising:
                spent += time.perf_counter() - start
                timed += 1
            session = turn.session
        times.append(spent)
    return per_turn("rehearsal turn: handle + render", times, timed)


def bench_jsonl(engine: Engine, rounds: int) -> float:
    """The JSON-lines protocol with a SQLite file: parse, transact, render, serialise."""
    lines = []
    for step in yaml.safe_load(SCRIPT.read_text())["steps"]:
        lines.append(json.dumps({k: v for k, v in step.items() if k in ("text", "press")}))
    feed = "\n".join(lines) + "\n"
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(rounds):
            store = SQLiteStore(Path(tmp) / f"b{r}.db")
            console = Console(engine, store, "bench", clock=lambda: NOW)
            out = io.StringIO()
            start = time.perf_counter()
            jsonl(console, io.StringIO(feed), out)
            times.append(time.perf_counter() - start)
            store.close()
            assert '"error"' not in out.getvalue(), "the scripted conversation went wrong"
    return per_turn("JSON lines + SQLite (WAL, synchronous=NORMAL)", times, len(lines))


def main() -> int:
    """Run every benchmark and print the figures against the targets."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--cpu", type=int, help="run on this CPU only (hosts' vCPUs differ)")
    args = parser.parse_args()
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    content = Content()
    engine = Engine(content)
    cpus = ",".join(map(str, sorted(os.sched_getaffinity(0))))
    print(f"python {sys.version.split()[0]}, {args.rounds} rounds, median per turn, CPU {cpus}")
    machine = bench_machine(engine, args.rounds)
    bench_engine(engine, content, args.rounds, render=False)
    rendered = bench_engine(engine, content, args.rounds, render=True)
    rehearsal = bench_rehearsal(engine, content, args.rounds)
    bench_jsonl(engine, max(3, args.rounds // 5))
    print(f"target: state machine <= 30 us: {'met' if machine <= 30 else 'MISSED'} ({machine:.1f})")
    print(f"target: turn with rendering <= 300 us: {'met' if rendered <= 300 else 'MISSED'} "
          f"({rendered:.1f})")  # fmt: skip
    print(f"target: rehearsal turn with rendering <= 300 us: "
          f"{'met' if rehearsal <= 300 else 'MISSED'} ({rehearsal:.1f})")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
