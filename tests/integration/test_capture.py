"""The capture on the running system: customers' turns over REST and socket.io and a handoff an agent
claims, answers, resolves with a verdict and the customer rates end up as the right rows in the
insights database; and the insights consumer killed (SIGKILL) mid-traffic loses and doubles nothing."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from collections.abc import Callable, Collection, Iterator
from typing import Any

import pytest
import requests
from sqlalchemy import create_engine, select
from sqlalchemy.engine import Engine

from handoff.insights.events import answer_version
from handoff.insights.schema import handoffs, review_utterances, turns
from handoff.rasa_api_auth import rasa_api_headers
from rasa_bot.processes import ManagedProcess
from rasa_bot.system import SystemLayout
from tests.integration.agent_client import AgentClient
from tests.integration.domain_texts import response_text, responses
from tests.integration.rest_client import RestCustomer
from tests.integration.socket_customer import SocketCustomer
from tests.system_fixtures import AGENTS

pytestmark = pytest.mark.model

CAPTURE_WAIT_SECONDS = 30.0  # the consumer blocks 2 s per read; a row is normally there well within this
RESTART_TIMEOUT_SECONDS = 60.0
# One message per customer this often: within the default conversation_message_limit (20 per 10 s).
MESSAGE_INTERVAL_SECONDS = 0.6
FAQ = "how much is the late fee if I miss a payment?"
NOT_UNDERSTOOD = {"utter_please_rephrase", "utter_out_of_scope"}
Row = dict[str, Any]


@pytest.fixture
def insights(bot_system: SystemLayout) -> Iterator[Engine]:
    """The insights database the running consumer writes (read only here)."""
    engine = create_engine(bot_system.insights_database_url, future=True)
    yield engine
    engine.dispose()


def rows_of(engine: Engine, table: Any, conversations: Collection[str]) -> list[Row]:
    with engine.connect() as connection:
        result = connection.execute(select(table).where(table.c.conversation_id.in_(list(conversations)))
                                    .order_by(table.c.event_id))
        return [dict(row._mapping) for row in result]


def wait_for_rows(engine: Engine, table: Any, conversations: Collection[str], done: Callable[[list[Row]], bool],
                  timeout: float = CAPTURE_WAIT_SECONDS) -> list[Row]:
    """The conversations' rows once `done` accepts them; fails with what there is after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        rows = rows_of(engine, table, conversations)
        if done(rows):
            return rows
        if time.monotonic() > deadline:
            raise AssertionError(f"after {timeout:.0f} s the insights database holds: {rows}")
        time.sleep(0.25)


def model_id(layout: SystemLayout) -> str:
    """The loaded model's id, as Rasa's `/status` reports it."""
    reply = requests.get(f"{layout.rasa_url}/status", headers=rasa_api_headers(layout.rasa_jwt_secret, 60),
                         timeout=10)
    reply.raise_for_status()
    return str(reply.json()["model_id"])


def version(*names: str) -> str:
    """The captured version of the answers named: of their wording in the domain."""
    return ",".join(answer_version(name, "", responses()) for name in names)


async def socket_customer_hands_over_and_rates(layout: SystemLayout, agent: AgentClient) -> str:
    """A widget customer asks an FAQ, asks for a person; the agent claims, answers, resolves with a
    verdict; the customer rates 4. Returns the conversation id."""
    customer = SocketCustomer(layout)
    conversation_id = await customer.connect()
    try:
        await customer.say(FAQ)
        assert await customer.texts(1) == [response_text("utter_faq/late_fees")]
        await customer.say("I want to talk to a real person")
        await customer.texts(2)
        await asyncio.to_thread(agent.wait_for_ticket, conversation_id)
        assert (await asyncio.to_thread(agent.claim, conversation_id)).status_code == 200
        await asyncio.sleep(0.3)  # a first response that takes a measurable time
        assert (await asyncio.to_thread(agent.send, conversation_id, "Hello, I am here to help")).status_code == 201
        await customer.texts(1)
        resolved = await asyncio.to_thread(agent.call, "POST", f"/api/conversations/{conversation_id}/resolve",
                                           json={"slots": {}, "verdict": {"kind": "wrong_answer",
                                                                          "intent": "faq/late_fees"}})
        assert resolved.status_code == 200 and "verdict_warning" not in resolved.json(), resolved.text
        await customer.texts(1)  # the welcome back
        await customer.client.emit("satisfaction", {"rating": 4})
        assert (await customer.next_event("satisfaction_saved"))[1]["saved"] is True
    finally:
        await customer.close()
    return conversation_id


def test_turns_and_a_handoff_are_captured_with_what_decided_them(bot_system: SystemLayout,
                                                                 insights: Engine) -> None:
    agent = AgentClient(bot_system, AGENTS[0]["token"])
    agent.go_online()
    rest = RestCustomer(bot_system)
    assert len(rest.say("blorp zzkx quantum marmalade")) == 1
    assert rest.say("where is my order?") == [response_text("utter_ask_order_number")]
    assert rest.say("KL-100001") == [response_text("utter_ask_email")]
    assert "KL-100001" in " ".join(rest.say("anna.berg@example.com"))
    socket_id = asyncio.run(socket_customer_hands_over_and_rates(bot_system, agent))
    model = model_id(bot_system)

    [handoff] = wait_for_rows(insights, handoffs, [socket_id],
                              lambda found: bool(found) and found[0]["verdict"] is not None
                              and found[0]["rating"] is not None)
    assert (handoff["reason"], handoff["channel"], handoff["agent_id"]) == (
        "explicit_request", "handoff_socketio", AGENTS[0]["id"])
    assert handoff["wait_seconds"] >= 0 and handoff["first_response_seconds"] >= 0.3
    assert handoff["handle_seconds"] >= handoff["first_response_seconds"]
    assert handoff["requested_at"] <= handoff["claimed_at"] <= handoff["first_response_at"] <= handoff["ended_at"]
    assert (handoff["ended_how"], handoff["rating"]) == ("resolved", 4)
    verdict = {key: handoff["verdict"][key] for key in ("kind", "intent", "agent_id")}
    assert verdict == {"kind": "wrong_answer", "intent": "faq/late_fees", "agent_id": AGENTS[0]["id"]}

    # The handoff's rating came after every turn here, so the turns are stored by now.
    rows = rows_of(insights, turns, [rest.conversation_id, socket_id])
    assert len(rows) == 6, rows
    by_conversation = {conversation: [row for row in rows if row["conversation_id"] == conversation]
                       for conversation in (rest.conversation_id, socket_id)}
    unclear, lookup, number, email = by_conversation[rest.conversation_id]
    faq, person = by_conversation[socket_id]
    for row in rows:
        assert row["model_id"] == model
        assert 0.0 < row["confidence"] <= 1.0 and row["confidence_source"]
        assert row["top_intents"] and row["top_intents"][0]["name"]
    assert (lookup["channel"], unclear["channel"], faq["channel"], person["channel"]) == (
        "handoff_rest", "handoff_rest", "handoff_socketio", "handoff_socketio")
    assert (lookup["answer"], lookup["answer_version"]) == ("utter_ask_order_number", version("utter_ask_order_number"))
    assert (lookup["fallback"], lookup["handoff_trigger"]) == (False, None)
    assert (number["answer"], email["channel"], email["fallback"]) == ("utter_ask_email", "handoff_rest", False)
    assert email["answer"] is None and email["answer_version"]  # the action's own text: no response name
    assert unclear["answer"] in NOT_UNDERSTOOD and unclear["answer_version"] == version(unclear["answer"])
    assert (unclear["fallback"], unclear["handoff_trigger"]) == (True, None)
    assert faq["intent"].startswith("faq") and faq["confidence_source"] != "intent"
    assert (faq["answer"], faq["answer_version"]) == ("utter_faq/late_fees", version("utter_faq/late_fees"))
    assert (faq["fallback"], faq["handoff_trigger"]) == (False, None)
    assert person["answer"] == "utter_handoff_request_human,utter_handoff_queued"
    assert (person["fallback"], person["handoff_trigger"]) == (False, "explicit_request")
    # The agent service's hand-back (an intent triggered through Rasa's API) is no customer turn.
    assert not any(row["intent"] == "handoff_resolved" for row in rows)
    # Words are kept (scrubbed) for the fallback and the handoff turn only: not the order number's or
    # the email's turn.
    kept = rows_of(insights, review_utterances, [rest.conversation_id, socket_id])
    assert sorted((row["text"], row["reason"], row["event_id"]) for row in kept) == [
        ("I want to talk to a real person", "handoff", person["event_id"]),
        ("blorp zzkx quantum marmalade", "fallback", unclear["event_id"])]



def test_the_consumer_killed_mid_traffic_loses_and_doubles_nothing(
        bot_system: SystemLayout, system_processes: dict[str, ManagedProcess], insights: Engine) -> None:
    consumer = system_processes["insights consumer"]
    customers = [RestCustomer(bot_system) for _ in range(6)]
    sent: dict[str, int] = {customer.conversation_id: 0 for customer in customers}
    stop = threading.Event()

    def chat(customer: RestCustomer) -> None:
        while not stop.is_set():
            assert customer.say("hello")
            sent[customer.conversation_id] += 1
            stop.wait(MESSAGE_INTERVAL_SECONDS)

    threads = [threading.Thread(target=chat, args=(customer,)) for customer in customers]
    for thread in threads:
        thread.start()
    try:
        time.sleep(2.0)
        os.kill(consumer.process.pid, signal.SIGKILL)
        consumer.process.wait(timeout=10)
        consumer.stop()
        time.sleep(2.0)  # turns published while no consumer runs wait in the stream
        consumer.start()
        consumer.wait_ready(RESTART_TIMEOUT_SECONDS)
        time.sleep(2.0)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    assert all(count > 0 for count in sent.values()), sent

    def complete(found: list[Row]) -> bool:
        return len(found) >= sum(sent.values())

    rows = wait_for_rows(insights, turns, list(sent), complete)
    time.sleep(3.0)  # a doubled row would come after the complete set
    rows = rows_of(insights, turns, list(sent))
    assert {conversation: sum(row["conversation_id"] == conversation for row in rows)
            for conversation in sent} == sent
    assert len({row["event_id"] for row in rows}) == len(rows)
