"""Sending: long texts split at paragraphs, compact keyboards, Telegram's failures handled."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import timedelta
from itertools import pairwise
from typing import Any

import pytest
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.storage.postgres import PostgresStore
from bot.telegram_adapter.request import answer
from bot.telegram_adapter.sending import MESSAGE_MAX, Sender, Throttle, keyboard, split_html
from dialogue.content import Rendered


def test_short_text_is_one_message() -> None:
    assert split_html("Hello <b>there</b>") == ["Hello <b>there</b>"]


def test_long_text_splits_at_paragraphs_and_keeps_every_word() -> None:
    paragraphs = [f"<b>Part {i}</b> " + "word " * 150 for i in range(12)]
    text = "\n\n".join(paragraphs)
    parts = split_html(text)
    assert len(parts) > 1
    assert all(len(p) <= MESSAGE_MAX for p in parts)
    assert all(p.count("<b>") == p.count("</b>") for p in parts)  # never inside a tag
    assert "\n\n".join(parts).split() == text.split()


def test_one_huge_paragraph_is_cut_at_spaces() -> None:
    parts = split_html("word " * 3000)
    assert all(len(p) <= MESSAGE_MAX for p in parts)
    assert " ".join(parts).split() == ["word"] * 3000


def test_keyboard_callback_data_is_compact() -> None:
    rendered = Rendered(
        "x", ((("space_greet", "Give space"), ("own_part", "Own it")),), token="zz9"
    )
    markup = keyboard(rendered)
    assert markup == {"inline_keyboard": [[
        {"text": "Give space", "callback_data": "zz9|space_greet"},
        {"text": "Own it", "callback_data": "zz9|own_part"},
    ]]}  # fmt: skip
    assert keyboard(Rendered("x", ())) is None


class Script:
    """A Bot API call that fails as told, then succeeds."""

    def __init__(self, *failures: Exception) -> None:
        self.failures, self.calls = list(failures), 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return "ok"


def run(failures: list[Exception]) -> tuple[Any, Script, list[float], list[int]]:
    script, slept, blocked = Script(*failures), [], []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    async def on_blocked(chat: int) -> None:
        blocked.append(chat)

    sender = Sender(bot=None, on_blocked=on_blocked, attempts=4, backoff=0.1, sleep=sleep)  # type: ignore[arg-type]
    result = asyncio.run(sender.call(7, script))
    return result, script, slept, blocked


def test_retry_after_is_waited_out() -> None:
    result, script, slept, _ = run([RetryAfter(timedelta(seconds=3))])
    assert (result, script.calls) == ("ok", 2)
    assert slept == [pytest.approx(3.0, abs=0.05)]  # from the 429 to the next call


def test_server_errors_back_off() -> None:
    result, script, slept, _ = run([NetworkError("502 Bad Gateway"), NetworkError("500")])
    assert (result, script.calls, slept) == ("ok", 3, [0.1, 0.2])


def test_not_modified_is_not_an_error() -> None:
    result, script, slept, _ = run([BadRequest("Message is not modified: same content")])
    assert (result, script.calls, slept) == (None, 1, [])


def test_bad_request_is_caught_before_network_error() -> None:
    assert issubclass(BadRequest, NetworkError)  # why the order of the except clauses matters
    result, script, _, _ = run([BadRequest("Can't parse entities")])
    assert (result, script.calls) == (None, 1)


def test_forbidden_marks_the_user_blocked() -> None:
    result, script, _, blocked = run([Forbidden("bot was blocked by the user")])
    assert (result, script.calls, blocked) == (None, 1, [7])


@pytest.mark.parametrize("cause", ["read", "connect"])
def test_a_timeout_is_repeated_only_if_nothing_was_sent(cause: str) -> None:
    import aiohttp  # noqa: PLC0415

    err = TimedOut()
    err.__cause__ = aiohttp.ConnectionTimeoutError() if cause == "connect" else TimeoutError()
    result, script, _, _ = run([err])
    assert script.calls == (2 if cause == "connect" else 1)
    assert result == ("ok" if cause == "connect" else None)


@pytest.mark.parametrize(
    ("cause", "repeated"),
    [("ServerDisconnectedError", False), ("ClientOSError", False), ("ClientConnectorError", True),
     (None, True)],
)  # fmt: skip
def test_a_broken_connection_is_repeated_only_before_the_request_left(
    cause: str | None, repeated: bool
) -> None:
    """A reset after the request was written is in doubt like a read timeout: never repeated;
    a refused connection (nothing sent) and an error answer (a 5xx) are."""
    import aiohttp  # noqa: PLC0415

    err = NetworkError("transport")
    if cause == "ClientConnectorError":
        err.__cause__ = aiohttp.ClientConnectorError(None, OSError(111, "refused"))  # type: ignore[arg-type]
    elif cause:
        err.__cause__ = getattr(aiohttp, cause)()
    result, script, _, _ = run([err])
    assert (script.calls, result) == ((2, "ok") if repeated else (1, None))


def test_an_answer_that_is_not_json_is_a_network_error_without_the_url() -> None:
    with pytest.raises(NetworkError) as caught:
        answer(502, b"<html>Bad Gateway at /bot123:SECRET")
    assert "SECRET" not in str(caught.value)
    assert answer(200, b'{"ok": true, "result": {"message_id": 5}}') == {"message_id": 5}
    with pytest.raises(RetryAfter):
        answer(429, b'{"ok": false, "error_code": 429, "parameters": {"retry_after": 30}}')


def test_giving_up_after_the_attempts() -> None:
    result, script, slept, _ = run([NetworkError("x")] * 4)
    assert (result, script.calls, len(slept)) == (None, 4, 4)


def test_throttle_paces_messages_and_a_429_holds_every_chat() -> None:
    """At most `rate` a second overall, a chat its burst and then one a second; a pause
    (a 429's retry_after) holds calls for every chat, not only the one refused."""

    async def scenario() -> tuple[list[float], list[float], float]:
        loop = asyncio.get_running_loop()
        throttle = Throttle(rate=20, burst=2)
        start = loop.time()
        overall = []
        for chat in range(30):  # 30 chats, one message each: 20 a second
            await throttle.wait(chat, True)
            overall.append(loop.time() - start)
        one_chat = []
        start = loop.time()
        for _ in range(4):  # one chat: 2 at once, then one a second
            await throttle.wait(999, True)
            one_chat.append(loop.time() - start)
        await throttle.pause(0.3)
        start = loop.time()
        await throttle.wait(5, False)  # not a message, another chat: still held
        return overall, one_chat, loop.time() - start

    overall, one_chat, held = asyncio.run(scenario())
    assert overall[-1] >= 1.2  # 30 messages at 20 a second, a tenth of a second's burst
    assert one_chat[1] < 0.2 and one_chat[2] >= 0.9 and one_chat[3] >= 1.9  # paced
    assert held >= 0.29


# -- the overall budget shared by workers on PostgreSQL ----------------------------------------


def test_workers_reserving_together_never_get_the_same_send_time(pg_url: str) -> None:
    """Four workers (one store each, on their own threads) reserve a tenth of a second's worth
    at a time: every send time, in the database server's clock, is `spacing` after another;
    together they never exceed the rate, however many reserve at once."""
    stores = [PostgresStore(pg_url) for _ in range(4)]
    spacing, times, lock = 1 / 30, [], threading.Lock()

    def worker(store: PostgresStore) -> None:
        for _ in range(25):
            first, _, _ = store.reserve_sends(3, spacing)
            with lock:
                times.extend(first + i * spacing for i in range(3))

    threads = [threading.Thread(target=worker, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for store in stores:
        store.close()
    times.sort()
    assert len(times) == 4 * 25 * 3
    gaps = [b - a for a, b in pairwise(times)]
    assert min(gaps) >= spacing - 1e-6  # one send per slot across all workers: 30 a second


def test_a_worker_holds_a_tenth_of_a_second_of_budget_at_most(pg_url: str) -> None:
    """However many of its chats wait to send, a worker reserves again only once its reserved
    times have come: the budget runs at most a tenth of a second (and a batch) ahead of now,
    so a worker killed at any moment leaves the others no more than that to wait out."""
    store, probe = PostgresStore(pg_url), PostgresStore(pg_url)
    ahead: list[float] = []

    async def scenario() -> None:
        throttle = Throttle(rate=30, burst=1, budget=store)
        waits = [asyncio.create_task(throttle.wait(chat, True)) for chat in range(40)]
        while not all(w.done() for w in waits):
            with probe.transaction() as run:
                row = run("SELECT tat - extract(epoch FROM clock_timestamp())::float8"
                          " FROM send_budget", ()).fetchone()  # fmt: skip
            ahead.extend(row or ())  # (none before the first reservation)
            await asyncio.sleep(0.02)
        times = [w.result() for w in waits]
        assert times == sorted(times) and len(set(times)) == 40  # one send time each

    asyncio.run(scenario())
    time.sleep(0.2)  # the leftovers of the throttle above have passed
    dead = PostgresStore(pg_url)  # a worker that reserves and is killed before sending
    dead.reserve_sends(3, 1 / 30)
    dead.close()
    first, now, _ = probe.reserve_sends(3, 1 / 30)  # the next worker is not held up
    store.close()
    probe.close()
    assert len(ahead) >= 20 and max(ahead) <= 0.1 + 1 / 30 + 0.02, max(ahead)
    assert first - now <= 3 / 30 + 0.02


def test_a_429_seen_by_one_worker_pauses_every_worker(pg_url: str) -> None:
    """Telegram's retry_after is for the bot: written to the shared row, it holds the next
    send of another worker too (and that worker's calls that are not messages after it)."""
    one, other = PostgresStore(pg_url), PostgresStore(pg_url)

    async def scenario() -> tuple[float, float, float]:
        loop = asyncio.get_running_loop()
        a, b = Throttle(rate=30, budget=one), Throttle(rate=30, budget=other)
        await a.pause(0.5)  # a 429 answered worker a
        start = loop.time()
        sent = await b.wait(7, True)  # worker b's next message
        return start, sent, b.until

    start, sent, until = asyncio.run(scenario())
    one.close()
    other.close()
    assert sent >= start + 0.45 and until >= start + 0.45


def test_a_send_time_nobody_used_is_used_by_the_next_chat_while_fresh(pg_url: str) -> None:
    """A reservation that found nothing to claim is given back: the next chat of the worker
    takes it instead of reserving more (a stale one is dropped: it would bunch sends)."""
    store = PostgresStore(pg_url)

    async def scenario() -> tuple[float, float, int]:
        throttle = Throttle(rate=30, budget=store)
        first = await throttle.wait(1, True)
        throttle.refund(first)  # nothing was claimed with it
        again = await throttle.wait(2, True)
        throttle.refund(again - 1.0)  # a second old: not given back
        return first, again, len(throttle.slots)

    first, again, left = asyncio.run(scenario())
    store.close()
    assert again == first and left == 2  # the same time, and the batch's other two remain
