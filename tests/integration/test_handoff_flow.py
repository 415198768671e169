"""Human handoff end to end: a widget customer (python-socketio, rasa-webchat protocol), the agent
API, the real Rasa and action servers and a real redis-server."""

from __future__ import annotations

import asyncio
import concurrent.futures
import uuid

import pytest
import requests

from handoff.agent_service.rasa_sync import applied_message_ids, replies_already_given
from rasa_bot.system import SystemLayout
from tests.integration.agent_client import AgentClient
from tests.integration.domain_texts import response_text
from tests.integration.rest_client import RestCustomer
from tests.integration.socket_customer import SocketCustomer
from tests.rasa_api import tracker_events
from tests.system_fixtures import ABANDON_AFTER_SECONDS, AGENTS

pytestmark = pytest.mark.model

FRUSTRATED_MESSAGES = [
    "that's not what I asked, this is useless!!",
    "THIS IS RIDICULOUS, WHY IS IT SO HARD TO GET MY MONEY BACK???",
]


@pytest.fixture
def alice(bot_system: SystemLayout) -> AgentClient:
    agent = AgentClient(bot_system, AGENTS[0]["token"])
    agent.go_online()
    return agent


@pytest.fixture
def bob(bot_system: SystemLayout) -> AgentClient:
    agent = AgentClient(bot_system, AGENTS[1]["token"])
    agent.go_online()
    return agent


async def ticket_of(agent: AgentClient, conversation_id: str) -> dict:
    """Waits for the ticket in a thread: blocking here would stall the customer's socket client."""
    return await asyncio.to_thread(agent.wait_for_ticket, conversation_id)


async def frustrate(customer: SocketCustomer) -> list[str]:
    """An FAQ, then a souring conversation; returns everything the customer was shown."""
    shown = []
    await customer.say("how long does a refund take?")
    shown += await customer.texts(1)
    for text in FRUSTRATED_MESSAGES:
        await customer.say(text)
        shown += await customer.texts(1)
    shown += await customer.texts(1)  # the queue message follows the handoff apology
    return shown


@pytest.mark.asyncio
async def test_frustration_hands_off_then_agent_chats_and_hands_back(
        bot_system: SystemLayout, alice: AgentClient) -> None:
    customer = SocketCustomer(bot_system)
    conversation_id = await customer.connect()
    try:
        shown = await frustrate(customer)
        assert shown[0] == response_text("utter_faq/refund_timeline")
        assert response_text("utter_handoff_frustration") in shown
        assert any("in the queue" in text for text in shown)

        ticket = await ticket_of(alice, conversation_id)
        assert ticket["reason"] == "frustration"
        assert ticket["frustration"] >= 1.0
        assert "MONEY BACK" in ticket["summary"]

        assert alice.claim(conversation_id).status_code == 200
        details = alice.conversation(conversation_id)
        bot_part = details["bot_transcript"] if "bot_transcript" in details else details["ticket"]["transcript"]
        customer_turns = [turn for turn in bot_part if turn["role"] == "customer"]
        assert [turn["text"] for turn in customer_turns][-2:] == FRUSTRATED_MESSAGES
        assert all("intent" in turn and "confidence" in turn and "frustration" in turn for turn in customer_turns)
        # Each bot message shows the confidence that decided it; the FAQ answer was a sure one.
        faq_answer = next(turn for turn in bot_part if turn["role"] == "bot" and turn["text"] == shown[0])
        assert faq_answer["decided_by"] == "response" and faq_answer["sure"] is True

        assert alice.send(conversation_id, "Hi, I'm Alice. Let me look at your refund.").status_code == 201
        _, delivered = await customer.next_event("bot_uttered")
        assert delivered["text"] == "Hi, I'm Alice. Let me look at your refund."
        assert delivered["metadata"]["sender"] == "agent"

        await customer.say("thank you, it's order KL-100002")
        assert await customer.nothing_arrives(2.0), "the bot spoke while a human owned the conversation"
        live = alice.conversation(conversation_id)["messages"]
        assert "thank you, it's order KL-100002" in [m["text"] for m in live]

        resolved = alice.resolve(conversation_id, slots={"order_number": "KL-100002"})
        assert resolved.status_code == 200, resolved.text
        assert resolved.json()["rasa_sync"] == "ok"
        assert await customer.texts(1) == [response_text("utter_welcome_back")]

        await customer.say("which payment methods can I use?")
        assert await customer.texts(1) == [response_text("utter_faq/payment_methods")]
    finally:
        await customer.close()

    events = tracker_events(bot_system, conversation_id)
    kinds = [event["event"] for event in events]
    assert "pause" in kinds and "resume" in kinds
    texts = [event.get("text") for event in events]
    assert "Hi, I'm Alice. Let me look at your refund." in texts
    assert "thank you, it's order KL-100002" in texts
    assert any(event["event"] == "slot" and event.get("name") == "order_number"
               and event.get("value") == "KL-100002" for event in events)
    # What a retried sync reads back from the real tracker to avoid doubling it.
    assert {m["id"] for m in live if m["kind"] == "text"} <= applied_message_ids(events)
    replies = replies_already_given(events, "handoff_resolved")
    assert [reply["text"] for reply in replies] == [response_text("utter_welcome_back")]


@pytest.mark.parametrize(("messages", "reason"), [
    (["I want to talk to a real person"], "explicit_request"),
    (["THIS IS USELESS!!! I want to talk to a real person now"], "explicit_request"),
    (["THIS IS RIDICULOUS!!! nothing works, I want a real person NOW"], "explicit_request"),
    (["you people are a joke, get me a manager"], "explicit_request"),
    (["can a human look at my double charge?"], "explicit_request"),
    (["I want to make a formal complaint about how I've been treated"], "judgement:complaint"),
    (["you charged me twice for the same purchase"], "judgement:dispute_charge"),
    (["my account has been locked and I can't get in"], "judgement:account_locked"),
    (["I sent the item back three weeks ago but the shop says they never got it"], "judgement:return_problem"),
    (["blorp zzkx quantum marmalade", "flibber jabber wocky"], "low_nlu_confidence"),
])
@pytest.mark.asyncio
async def test_each_trigger_hands_off_with_its_reason(
        bot_system: SystemLayout, alice: AgentClient, messages: list[str], reason: str) -> None:
    customer = SocketCustomer(bot_system)
    conversation_id = await customer.connect()
    try:
        for text in messages:
            await customer.say(text)
        ticket = await ticket_of(alice, conversation_id)
        assert ticket["reason"] == reason
    finally:
        await customer.close()


@pytest.mark.asyncio
async def test_two_agents_racing_to_claim_only_one_wins(
        bot_system: SystemLayout, alice: AgentClient, bob: AgentClient) -> None:
    customer = SocketCustomer(bot_system)
    conversation_id = await customer.connect()
    try:
        await customer.say("can I speak to a human please")
        await ticket_of(alice, conversation_id)
        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            replies = list(pool.map(lambda agent: agent.claim(conversation_id), [alice, bob]))
        assert sorted(reply.status_code for reply in replies) == [200, 409]
        winner = alice if replies[0].status_code == 200 else bob
        assert winner.resolve(conversation_id).status_code == 200
    finally:
        await customer.close()


@pytest.mark.asyncio
async def test_reconnecting_customer_gets_what_the_agent_sent_meanwhile(
        bot_system: SystemLayout, alice: AgentClient) -> None:
    customer = SocketCustomer(bot_system)
    conversation_id = await customer.connect()
    await customer.say("I need a person")
    await ticket_of(alice, conversation_id)
    assert alice.claim(conversation_id).status_code == 200
    await customer.close()
    assert alice.send(conversation_id, "Are you still there?").status_code == 201
    returning = SocketCustomer(bot_system)
    assert await returning.connect(session_id=conversation_id) == conversation_id
    try:
        _, delivered = await returning.next_event("bot_uttered")
        assert delivered["text"] == "Are you still there?"
    finally:
        await returning.close()
        alice.resolve(conversation_id)


async def mode_of(agent: AgentClient, conversation_id: str) -> str:
    return (await asyncio.to_thread(agent.conversation, conversation_id))["state"]["mode"]


@pytest.mark.asyncio
async def test_a_queued_customer_who_leaves_is_abandoned_but_one_still_connected_keeps_their_place(
        bot_system: SystemLayout, alice: AgentClient) -> None:
    leaving, first_tab = SocketCustomer(bot_system), SocketCustomer(bot_system)
    gone, kept = await leaving.connect(), await first_tab.connect()
    for customer in (leaving, first_tab):
        await customer.say("I need a person")
    await ticket_of(alice, gone)
    await ticket_of(alice, kept)
    second_tab = SocketCustomer(bot_system)
    try:
        assert await second_tab.connect(session_id=kept) == kept
        await leaving.close()
        await first_tab.close()  # the conversation is still open in the second tab
        loop = asyncio.get_running_loop()
        deadline = loop.time() + ABANDON_AFTER_SECONDS + 15
        while await mode_of(alice, gone) != "abandoned":
            assert loop.time() < deadline, "the customer who left was never abandoned"
            await asyncio.sleep(0.2)
        await asyncio.sleep(ABANDON_AFTER_SECONDS)
        assert await mode_of(alice, kept) == "queued"
        assert gone not in [entry["conversation_id"] for entry in await asyncio.to_thread(alice.queue)]
    finally:
        await second_tab.close()


@pytest.mark.asyncio
async def test_a_made_up_session_id_gets_a_fresh_conversation(bot_system: SystemLayout) -> None:
    customer = SocketCustomer(bot_system)
    try:
        issued = await customer.connect(session_id="someone-elses-conversation")
        assert issued != "someone-elses-conversation"
        await customer.say("hi")
        assert await customer.texts(1) == [response_text("utter_greet")]
    finally:
        await customer.close()


@pytest.mark.asyncio
async def test_oversized_message_gets_a_clear_error_over_socketio(bot_system: SystemLayout) -> None:
    customer = SocketCustomer(bot_system)
    await customer.connect()
    try:
        await customer.say("x" * 5000)
        _, error = await customer.next_event("handoff_error")
        assert error["status"] == 413 and "4096" in error["error"]
    finally:
        await customer.close()


def test_rest_channel_refuses_bad_input(bot_system: SystemLayout) -> None:
    customer = RestCustomer(bot_system)
    webhook = f"{customer.base}/webhook"
    assert requests.post(webhook, data="{not json", timeout=10).status_code == 400
    assert requests.post(webhook, json={"sender": "alice", "message": "hi"}, timeout=10).status_code == 403
    too_big = customer.send("y" * 4097)
    assert too_big.status_code == 413 and "4096" in too_big.json()["error"]
    other = f"{customer.base}/conversations/not-a-real-id/messages"
    assert requests.get(other, timeout=10).status_code == 403


def test_rest_customer_chats_with_an_agent_and_html_stays_text(
        bot_system: SystemLayout, alice: AgentClient) -> None:
    customer = RestCustomer(bot_system)
    customer.say("let me talk to an agent")
    alice.wait_for_ticket(customer.conversation_id)
    assert alice.claim(customer.conversation_id).status_code == 200
    retry_id = uuid.uuid4().hex
    first = customer.send("<img src=x onerror=alert(1)>", message_id=retry_id)
    again = customer.send("<img src=x onerror=alert(1)>", message_id=retry_id)
    assert first.json() == [] and first.headers["X-Handoff-Route"] == "human"
    assert again.headers["X-Handoff-Route"] == "duplicate"
    live = [m["text"] for m in alice.conversation(customer.conversation_id)["messages"]]
    assert live.count("<img src=x onerror=alert(1)>") == 1
    alice.send(customer.conversation_id, "<b>not bold</b>")
    assert [m["text"] for m in customer.agent_messages()] == ["<b>not bold</b>"]
    alice.resolve(customer.conversation_id)
