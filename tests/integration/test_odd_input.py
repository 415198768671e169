"""Odd input from customers never gives a 500 nor vanishes: each case once found gets a 4xx with a
clear message (REST) or the `handoff_error` event and a shown apology (socket.io), and Hypothesis
fuzzing of the running channels finds no 5xx, no dead socket and no traceback in the logs."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from rasa_bot.system import SystemLayout
from tests.integration.rest_client import RestCustomer
from tests.integration.socket_customer import SocketCustomer
from tests.odd_input import (
    FEW_FUZZ_SETTINGS,
    LogWatch,
    any_text,
    field,
    json_body,
    json_values,
    objects_with,
    query_params,
    query_string,
    text_or,
    url_quoted,
)

pytestmark = pytest.mark.model

LONE_SURROGATE = "\ud800"
NOT_UTF8 = "the message must be valid UTF-8 text"


@pytest.fixture(scope="module")
def logs(bot_system: SystemLayout) -> LogWatch:
    """The system's logs from the first test of this module on."""
    return LogWatch(*sorted(bot_system.log_dir.glob("*.log")))


def test_a_conversation_id_with_a_non_ascii_signature_is_unknown(bot_system: SystemLayout, logs: LogWatch) -> None:
    customer = RestCustomer(bot_system)
    forged = customer.conversation_id[:-1] + "é"
    base = f"{bot_system.rasa_url}/webhooks/handoff_rest"
    sent = requests.post(f"{base}/webhook", data=json_body({"sender": forged, "message": "hi"}), timeout=30)
    assert sent.status_code == 403 and sent.json()["error"].startswith("unknown conversation")
    read = requests.get(f"{base}/conversations/{url_quoted(forged)}/messages", timeout=30)
    assert (read.status_code, read.json()) == (403, {"error": "unknown conversation"})


@pytest.mark.parametrize("params, refused", [
    ({"wait": "nan"}, "wait must be a number of seconds"),
    ({"wait": "inf"}, "wait must be a number of seconds"),
    ({"after": "99999999999999999999-0"}, "after must be a stream id"),
    ({"after": "0-0\n"}, "after must be a stream id"),
])
def test_odd_reads_of_agent_messages_are_refused(bot_system: SystemLayout, params: dict[str, str],
                                                 refused: str) -> None:
    customer = RestCustomer(bot_system)
    read = requests.get(f"{customer.base}/conversations/{customer.conversation_id}/messages",
                        params=params, timeout=30)
    assert read.status_code == 400 and read.json()["error"].startswith(refused)


def test_a_lone_surrogate_in_a_rest_message_is_refused(bot_system: SystemLayout) -> None:
    customer = RestCustomer(bot_system)
    body = {"sender": customer.conversation_id, "message": f"hi {LONE_SURROGATE}", "message_id": "m-1"}
    sent = requests.post(f"{customer.base}/webhook", data=json_body(body), timeout=30)
    assert sent.status_code == 400 and sent.json()["error"].startswith(NOT_UTF8)
    assert customer.say("hi")  # the conversation goes on


@pytest.mark.asyncio
async def test_a_socketio_session_request_with_a_non_ascii_id_gets_a_new_conversation(
        bot_system: SystemLayout) -> None:
    customer = SocketCustomer(bot_system)
    first = await customer.connect()
    await customer.close()
    again = SocketCustomer(bot_system)
    try:
        resumed = await again.connect(session_id=first[:-1] + "é")
        assert resumed != first
        await again.say("hi")
        assert await again.texts(1)
    finally:
        await again.close()


@pytest.mark.asyncio
async def test_a_lone_surrogate_over_socketio_is_refused_and_shown(bot_system: SystemLayout) -> None:
    customer = SocketCustomer(bot_system)
    await customer.connect()
    try:
        await customer.say(f"hi {LONE_SURROGATE}")
        _, error = await customer.next_event("handoff_error")
        assert error["status"] == 400 and error["error"].startswith(NOT_UTF8)
        _, shown = await customer.next_event("bot_uttered")
        assert shown["metadata"] == {"sender": "system", "kind": "error"} and NOT_UTF8 in shown["text"]
        await customer.say("hi")
        assert await customer.texts(1)
    finally:
        await customer.close()


# --- fuzzing ------------------------------------------------------------------------------------


def assert_answered(reply: requests.Response) -> None:
    """Never a 5xx; a 4xx is JSON naming its reason in `error`."""
    assert reply.status_code < 500, (reply.status_code, reply.text[:500])
    if reply.status_code >= 400:
        body = reply.json()
        assert isinstance(body, dict) and isinstance(body.get("error"), str) and body["error"], body


@pytest.fixture(scope="module")
def rest_customer(bot_system: SystemLayout) -> RestCustomer:
    return RestCustomer(bot_system)


@FEW_FUZZ_SETTINGS
@given(query=query_params({"after": text_or("0-0", "1700000000000-0"), "wait": text_or("0", "0.01", "-1")}),
       which=st.sampled_from(["own", "odd"]), odd_id=any_text)
def test_fuzz_rest_reads(rest_customer: RestCustomer, logs: LogWatch, query: dict[str, str], which: str,
                         odd_id: str) -> None:
    conversation_id = rest_customer.conversation_id if which == "own" else odd_id
    url = f"{rest_customer.base}/conversations/{url_quoted(conversation_id)}/messages"
    query = {name: ("0.01" if name == "wait" and value not in ("nan", "inf") and _long(value) else value)
             for name, value in query.items()}
    assert_answered(requests.get(f"{url}?{query_string(query)}" if query else url, timeout=60))


def _long(wait: str) -> bool:
    """Whether a wait would keep the request open for long (the route caps it at 25 s)."""
    try:
        return float(wait) > 0.05
    except ValueError:
        return False


@FEW_FUZZ_SETTINGS
@given(data=st.data())
def test_fuzz_rest_webhook_and_session(rest_customer: RestCustomer, logs: LogWatch, data: st.DataObject) -> None:
    body = data.draw(st.one_of(
        objects_with({"sender": field(rest_customer.conversation_id), "message": field("hello"),
                      "message_id": field(likely=st.uuids().map(str)), "metadata": field({"slack_user": "U1"})}),
        json_values))
    route = data.draw(st.sampled_from(["webhook", "webhook", "webhook", "session"]))
    assert_answered(requests.post(f"{rest_customer.base}/{route}", data=json_body(body), timeout=60))


@dataclass
class LiveWidget:
    """A widget's socket.io connection driven from synchronous Hypothesis tests through its own loop."""

    loop: asyncio.AbstractEventLoop
    customer: SocketCustomer

    def run(self, step: Any, timeout: float = 60) -> Any:
        return self.loop.run_until_complete(asyncio.wait_for(step, timeout))


@pytest.fixture(scope="module")
def widget(bot_system: SystemLayout) -> Iterator[LiveWidget]:
    loop = asyncio.new_event_loop()

    async def connect() -> SocketCustomer:
        customer = SocketCustomer(bot_system)
        await customer.connect()
        return customer

    live = LiveWidget(loop, loop.run_until_complete(connect()))
    yield live
    loop.run_until_complete(live.customer.close())
    loop.close()


EVENT_PAYLOADS = {
    "session_request": lambda widget: objects_with({"session_id": field(widget.customer.conversation_id)}),
    "user_uttered": lambda widget: objects_with({"message": field("hello"), "session_id": field(None),
                                                 "message_id": field(likely=st.uuids().map(str)),
                                                 "metadata": field({})}),
    "user_typing": lambda _: objects_with({"typing": field(True, False)}),
    "status_request": lambda _: objects_with({}),
    "satisfaction": lambda _: objects_with({"rating": field(1, 5, 0, 6, 1.0, True)}),
}
# What answers each event (a message is answered by its acknowledgement): None for user_typing, which
# only the agent sees.
# A refusal (e.g. over a rate limit) is an answer too.
REPLIES = {"session_request": ("session_confirm", "handoff_error"), "user_typing": None,
           "status_request": ("handoff_status", "handoff_error"),
           "satisfaction": ("satisfaction_saved", "handoff_error")}


@pytest.mark.parametrize("event", sorted(EVENT_PAYLOADS))
@FEW_FUZZ_SETTINGS
@given(data=st.data())
def test_fuzz_socketio_events(widget: LiveWidget, logs: LogWatch, event: str, data: st.DataObject) -> None:
    """Each event with any JSON payload gets its answer (a message: its acknowledgement), and the socket
    still answers a status request afterwards."""
    payload = data.draw(st.one_of(EVENT_PAYLOADS[event](widget), json_values))
    customer = widget.customer

    async def exchange() -> None:
        while not customer.received.empty():  # late replies of earlier examples
            customer.received.get_nowait()
        sent = json.loads(json.dumps(payload))
        if event == "user_uttered":
            # A message is always acknowledged, delivered or refused; waiting for a reply instead
            # would wait in vain once a fuzzed text handed the conversation to a person.
            ack = await customer.client.call(event, sent, timeout=20)
            assert isinstance(ack, dict) and isinstance(ack.get("ok"), bool), ack
        else:
            await customer.client.emit(event, sent)
            if (replies := REPLIES[event]) is not None:
                await next_of(customer, replies, timeout=20)
        await customer.client.emit("status_request", {})
        await next_of(customer, ("handoff_status",))

    widget.run(exchange())


async def next_of(customer: SocketCustomer, events: tuple[str, ...], timeout: float = 30) -> tuple[str, Any]:
    while True:
        event, data = await customer.next_event(timeout=timeout)
        if event in events:
            return event, data


def test_a_normal_message_is_answered_after_the_fuzzing(widget: LiveWidget, rest_customer: RestCustomer) -> None:
    async def say_hi() -> list[str]:
        # A new conversation on the same socket: a fuzzed text may have handed the old one to a person.
        await widget.customer.client.emit("session_request", {})
        _, widget.customer.conversation_id = await next_of(widget.customer, ("session_confirm",))
        await widget.customer.say("hi", message_id=uuid.uuid4().hex)
        return await widget.customer.texts(1)

    assert widget.run(say_hi())
    assert rest_customer.send("hi").status_code == 200


def test_the_fuzzing_logged_no_traceback(logs: LogWatch) -> None:
    """Runs after this module's fuzz tests (pytest keeps the file's order)."""
    logs.assert_no_traceback()
