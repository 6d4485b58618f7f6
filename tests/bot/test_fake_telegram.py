"""The fake Bot API server itself: it must refuse what Telegram refuses, or tests prove little."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from fake_telegram import TOKEN, FakeTelegram


@pytest.fixture
def api() -> Iterator[tuple[FakeTelegram, httpx.Client]]:
    fake = FakeTelegram()
    fake.start()
    with httpx.Client(base_url=f"{fake.base_url}/bot{TOKEN}") as client:
        yield fake, client
    fake.stop()


def call(client: httpx.Client, method: str, **params: object) -> dict:
    return client.post(f"/{method}", json=params).json()


@pytest.mark.parametrize(
    ("text", "error"),
    [("<div>x</div>", "Unsupported start tag"), ("<b>open", "Can't find end tag"),
     ("a & b", "reserved"), ("x" * 4097, "message is too long"), ("  ", "text is empty"),
     ("<b>a</i>", "Unexpected end tag")],
)  # fmt: skip
def test_html_and_length_are_checked(api: tuple, text: str, error: str) -> None:
    _, client = api
    answer = call(client, "sendMessage", chat_id=1, text=text, parse_mode="HTML")
    assert answer["ok"] is False and answer["error_code"] == 400
    assert error in answer["description"]


def test_length_counts_after_entities() -> None:
    fake = FakeTelegram()
    fake.start()
    try:
        with httpx.Client(base_url=f"{fake.base_url}/bot{TOKEN}") as client:
            text = "&amp;" * 4096  # 4,096 visible characters
            assert call(client, "sendMessage", chat_id=1, text=text, parse_mode="HTML")["ok"]
    finally:
        fake.stop()


def test_keyboards_are_checked(api: tuple) -> None:
    _, client = api
    long = {"inline_keyboard": [[{"text": "x", "callback_data": "d" * 65}]]}
    assert call(client, "sendMessage", chat_id=1, text="x", reply_markup=long)["description"] == (
        "Bad Request: BUTTON_DATA_INVALID"
    )
    flat = {"inline_keyboard": [{"text": "x", "callback_data": "d"}]}
    assert (
        "can't parse reply keyboard"
        in call(client, "sendMessage", chat_id=1, text="x", reply_markup=flat)["description"]
    )


def test_not_modified_and_missing_messages(api: tuple) -> None:
    _, client = api
    markup = {"inline_keyboard": [[{"text": "x", "callback_data": "1|a"}]]}
    sent = call(client, "sendMessage", chat_id=1, text="x", reply_markup=markup)["result"]
    same = call(
        client,
        "editMessageReplyMarkup",
        chat_id=1,
        message_id=sent["message_id"],
        reply_markup=markup,
    )
    assert "message is not modified" in same["description"]
    gone = call(client, "editMessageReplyMarkup", chat_id=1, message_id=99999, reply_markup=markup)
    assert "message to edit not found" in gone["description"]


def test_form_and_multipart_bodies_and_faults(api: tuple) -> None:
    fake, client = api
    assert client.post("/sendMessage", data={"chat_id": "3", "text": "form"}).json()["ok"]
    doc = client.post("/sendDocument", data={"chat_id": "3"}, files={"document": ("a.json", b"{}")})
    assert doc.json()["ok"] and fake.to(3)[-1].text == "<document>"
    fake.fail("sendMessage", 429, retry_after=7)
    limited = call(client, "sendMessage", chat_id=3, text="x")
    assert limited["error_code"] == 429 and limited["parameters"] == {"retry_after": 7}
    fake.member(3, "kicked")
    assert call(client, "sendMessage", chat_id=3, text="x")["error_code"] == 403


def test_get_updates_offset_semantics(api: tuple) -> None:
    fake, client = api
    first, second = fake.text(5, "a"), fake.text(5, "b")
    got = call(client, "getUpdates", offset=0, timeout=0)["result"]
    assert [u["update_id"] for u in got] == [first, second]
    got = call(client, "getUpdates", offset=second, timeout=0)["result"]  # confirms the first
    assert [u["update_id"] for u in got] == [second]
    assert call(client, "getUpdates", offset=second + 1, timeout=0)["result"] == []
    assert json.loads(json.dumps(fake.updates)) == []
