"""Customers cannot steer the running bot directly: a typed `/intent{...}` is read as words, while
a button the bot offered in the conversation still works when clicked (widget, REST and Slack);
metadata is capped and only allowed keys reach the tracker; socket.io takes browsers only from the
shop's pages.

The reference bot's responses carry no buttons, so where a test needs an offer it records one in
the tracker through Rasa's API, exactly as Rasa records a bot message with buttons."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest

from handoff.web_origins import normalise_origin
from rasa_bot.system import SystemLayout
from tests.integration.agent_client import AgentClient
from tests.integration.domain_texts import response_text
from tests.integration.rest_client import RestCustomer
from tests.integration.socket_customer import SocketCustomer
from tests.rasa_api import rasa_api
from tests.slack_api import FakeSlackApi
from tests.slack_events import TEAM, SlackSender, block_actions, event_callback, message, new_ts
from tests.socketio_handshake import CONNECTED, REFUSED, connect_reply
from tests.system_fixtures import AGENTS, SLACK_SIGNING_SECRET

pytestmark = pytest.mark.model

FOREIGN_ORIGIN = "https://attacker.example"


@pytest.fixture
def alice(bot_system: SystemLayout) -> AgentClient:
    agent = AgentClient(bot_system, AGENTS[0]["token"])
    agent.go_online()
    return agent


def user_turns(layout: SystemLayout, conversation_id: str) -> list[dict]:
    return [event for event in rasa_api(layout, "GET", f"{conversation_id}/tracker").json()["events"]
            if event["event"] == "user"]


def nth_turn(layout: SystemLayout, conversation_id: str, number: int, timeout: float = 30.0) -> dict:
    """The conversation's `number`th user turn (from 1), waiting until Rasa has stored it."""
    deadline = time.monotonic() + timeout
    while len(turns := user_turns(layout, conversation_id)) < number:
        assert time.monotonic() < deadline, f"turn {number} of {conversation_id} never reached the tracker"
        time.sleep(0.2)
    return turns[number - 1]


def offer_button(layout: SystemLayout, conversation_id: str, title: str, payload: str) -> None:
    """Records that the bot offered a button in the conversation, as Rasa logs such a message."""
    bot_message = {"event": "bot", "text": "Pick one", "data": {"buttons": [{"title": title, "payload": payload}]}}
    rasa_api(layout, "POST", f"{conversation_id}/tracker/events", json=[bot_message])


def obeyed(turn: dict, intent: str) -> bool:
    """Whether Rasa took the intent from the text itself (`/intent`), without NLU."""
    ranking = turn["parse_data"].get("intent_ranking") or []
    return turn["parse_data"]["intent"]["name"] == intent and [r["name"] for r in ranking] == [intent]


def release(agent: AgentClient, conversation_id: str) -> None:
    """Ends a handoff a test made, so it holds no agent's place for later tests."""
    agent.wait_for_ticket(conversation_id)
    assert agent.claim(conversation_id).status_code == 200
    assert agent.resolve(conversation_id).status_code == 200


# What the commands would make the bot say if they were obeyed.
COMMANDED_REPLIES = ("utter_welcome_back", "utter_handoff_request_human", "utter_handoff_queued",
                     "utter_handoff_already_queued")


@pytest.mark.parametrize("typed, read_as", [
    ("/handoff_resolved", "handoff_resolved"),
    ('/inform{"lookup_failures": 0}', 'inform{"lookup_failures": 0}'),
    (" /request_human", "request_human"),
])
def test_a_typed_command_is_read_as_words(bot_system: SystemLayout, typed: str, read_as: str) -> None:
    customer = RestCustomer(bot_system)
    reply = customer.send(typed)
    assert reply.status_code == 200 and reply.headers["X-Handoff-Route"] == "bot"
    # The words alone are an ordinary message: whatever the model makes of them, the command is not carried
    # out, so the bot neither welcomes back nor hands off.
    texts = [m["text"] for m in reply.json()]
    assert texts and not set(texts) & {response_text(name) for name in COMMANDED_REPLIES}
    [turn] = user_turns(bot_system, customer.conversation_id)
    assert turn["text"] == read_as and not obeyed(turn, read_as.split("{")[0])
    assert len(turn["parse_data"]["intent_ranking"]) > 1, "NLU read the words"
    assert not [e for e in turn["parse_data"]["entities"] if e["entity"] == "lookup_failures"]
    events = rasa_api(bot_system, "GET", f"{customer.conversation_id}/tracker").json()["events"]
    assert not [e for e in events if e["event"] == "slot" and e["name"] == "lookup_failures"]


def test_a_button_the_bot_offered_is_obeyed_when_clicked(bot_system: SystemLayout, alice: AgentClient) -> None:
    customer = RestCustomer(bot_system)
    customer.say("hi")
    offer_button(bot_system, customer.conversation_id, "Talk to a person", "/request_human")
    assert response_text("utter_handoff_request_human") in customer.say("/request_human")
    assert obeyed(user_turns(bot_system, customer.conversation_id)[-1], "request_human")
    release(alice, customer.conversation_id)

    elsewhere = RestCustomer(bot_system)  # the offer was made in the other conversation only
    elsewhere.say("hi")
    assert elsewhere.say("/request_human") == [response_text("utter_please_rephrase")]
    turn = user_turns(bot_system, elsewhere.conversation_id)[-1]
    assert turn["text"] == "request_human" and not obeyed(turn, "request_human")


@pytest.mark.asyncio
async def test_the_widget_clicks_an_offered_quick_reply(bot_system: SystemLayout) -> None:
    customer = SocketCustomer(bot_system)
    conversation_id = await customer.connect(origin=normalise_origin(bot_system.agent_url))
    try:
        await customer.say("hi")
        await asyncio.to_thread(nth_turn, bot_system, conversation_id, 1)
        await asyncio.to_thread(offer_button, bot_system, conversation_id, "No, thanks", "/deny")
        await customer.say("/deny")
        assert obeyed(await asyncio.to_thread(nth_turn, bot_system, conversation_id, 2), "deny")
    finally:
        await customer.close()


def test_oversized_metadata_is_refused_and_unknown_keys_never_reach_the_tracker(bot_system: SystemLayout) -> None:
    customer = RestCustomer(bot_system)
    too_big = customer.send("hi", metadata={"notes": "x" * 300_000})
    assert too_big.status_code == 413
    assert too_big.json()["error"] == "the metadata is 300012 bytes of JSON; at most 2048 bytes are accepted"
    assert user_turns(bot_system, customer.conversation_id) == []

    reply = customer.send("how long does a refund take?", metadata={"is_external": True, "page": "/checkout",
                                                                    "slack_user": "U1"})
    assert [m["text"] for m in reply.json()] == [response_text("utter_faq/refund_timeline")]
    [turn] = user_turns(bot_system, customer.conversation_id)
    assert turn["metadata"]["slack_user"] == "U1"
    assert "is_external" not in turn["metadata"] and "page" not in turn["metadata"]


@pytest.mark.asyncio
async def test_oversized_metadata_gets_a_clear_error_over_socketio(bot_system: SystemLayout) -> None:
    customer = SocketCustomer(bot_system)
    await customer.connect()
    try:
        await customer.say("hi", metadata={"notes": "x" * 300_000})
        _, error = await customer.next_event("handoff_error")
        assert error["status"] == 413 and "at most 2048 bytes" in error["error"]
    finally:
        await customer.close()


@pytest.mark.asyncio
async def test_socketio_takes_browsers_from_the_shops_page_only(bot_system: SystemLayout) -> None:
    assert await connect_reply(bot_system.rasa_url, {"Origin": FOREIGN_ORIGIN}) == (
        REFUSED, {"message": "this page's origin may not open the chat"})
    assert (await connect_reply(bot_system.rasa_url, {"Origin": normalise_origin(bot_system.agent_url)}))[0] == CONNECTED
    customer = SocketCustomer(bot_system)
    await customer.connect(origin=normalise_origin(bot_system.agent_url))
    try:
        await customer.say("how long does a refund take?")
        assert await customer.texts(1) == [response_text("utter_faq/refund_timeline")]
    finally:
        await customer.close()


def test_slack_clicks_on_offered_buttons_work_and_typed_commands_are_words(
        bot_system: SystemLayout, slack_api: FakeSlackApi, alice: AgentClient) -> None:
    slack = SlackSender(f"{bot_system.rasa_url}/webhooks/handoff_slack/webhook", SLACK_SIGNING_SECRET)
    dm, user = "D" + uuid.uuid4().hex[:9].upper(), "U" + uuid.uuid4().hex[:9].upper()
    conversation_id = f"slack_{TEAM}_{dm}_{user}"

    assert slack.post(event_callback(message("/handoff_resolved", user, dm))).status_code == 200
    turn = nth_turn(bot_system, conversation_id, 1)
    assert turn["text"] == "handoff_resolved" and not obeyed(turn, "handoff_resolved")

    offer_button(bot_system, conversation_id, "Talk to a person", "/request_human")
    assert slack.click(block_actions("/request_human", user, dm, message_ts=new_ts())).status_code == 200
    texts = [post.args["text"] for post in slack_api.wait_for(lambda: slack_api.posts(channel=dm), 2, 30)]
    assert response_text("utter_handoff_request_human") in texts
    assert obeyed(nth_turn(bot_system, conversation_id, 2), "request_human")
    release(alice, conversation_id)
