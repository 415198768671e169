"""Which Slack events are a customer's new message, and which conversation each belongs to."""

from __future__ import annotations

import pytest

from handoff.slack.address import SlackAddress
from handoff.slack.events import MalformedEvent, button_click, customer_message
from tests.slack_events import BOT_ID, BOT_USER, TEAM, app_mention, block_actions, event_callback, message


def test_a_direct_message_is_the_dm_conversation() -> None:
    found = customer_message(event_callback(message("hi there", "U1", "D1", ts="1700000000.000100")))
    assert found is not None
    assert found.text == "hi there"
    assert found.direct and not found.mention
    assert found.address == SlackAddress(TEAM, "D1", "U1", None)
    assert found.message_id == "D1:1700000000.000100"
    assert found.reply_thread is None


def test_a_thread_in_a_direct_message_stays_the_same_conversation() -> None:
    found = customer_message(event_callback(message("still me", "U1", "D1", ts="1700000009.000100",
                                                    thread_ts="1700000000.000100")))
    assert found is not None
    assert found.address == SlackAddress(TEAM, "D1", "U1", None)
    assert found.reply_thread == "1700000000.000100"


def test_a_top_level_mention_starts_a_thread_that_replies_continue() -> None:
    first = customer_message(event_callback(app_mention("where is my order?", "U1", "C1", ts="1700000000.000200")))
    assert first is not None and first.mention
    assert first.text == "where is my order?"  # the mention of the bot is dropped
    reply = customer_message(event_callback(message("KL-100001", "U1", "C1", channel_type="channel",
                                                    ts="1700000005.000100", thread_ts="1700000000.000200")))
    assert reply is not None and reply.in_thread
    assert reply.address.conversation_id == first.address.conversation_id
    assert first.reply_thread == reply.reply_thread == "1700000000.000200"
    assert SlackAddress.parse(first.address.conversation_id) == first.address


@pytest.mark.parametrize("event", [
    message("I am the bot", BOT_USER, "D1", bot_id=BOT_ID),
    message("posted by an integration", "U1", "D1", subtype="bot_message", bot_id="B9"),
    message("", "U1", "C1", channel_type="channel", subtype="channel_join"),
    message("<@U1> has joined the channel", "U1", "C1", channel_type="channel", subtype="channel_join"),
    {"type": "message", "subtype": "message_changed", "channel": "D1", "ts": "1700000000.000300",
     "message": {"type": "message", "user": "U1", "text": "edited", "ts": "1700000000.000100"}},
    message("gone", "U1", "D1", subtype="message_deleted"),
    message("from our own bot user", BOT_USER, "D1"),
    {"type": "reaction_added", "user": "U1", "reaction": "thumbsup"},
    message(f"<@{BOT_USER}>", "U1", "D1"),
])
def test_noise_is_not_a_customer_message(event: dict) -> None:
    assert customer_message(event_callback(event)) is None


@pytest.mark.parametrize("payload", [
    {"type": "event_callback", "event_id": "Ev1"},
    {"type": "event_callback", "event": {"type": "message", "user": "U1", "text": "hi", "channel": "D1",
                                         "ts": "1.1"}},
    event_callback({"type": "message", "user": "U1", "text": "hi", "ts": "1700000000.000100"}),
    event_callback({"type": "message", "user": "u1; DROP", "text": "hi", "channel": "D1",
                    "ts": "1700000000.000100"}),
])
def test_malformed_events_are_refused(payload: dict) -> None:
    with pytest.raises(MalformedEvent):
        customer_message(payload)


def test_non_slack_conversation_ids_do_not_parse() -> None:
    assert SlackAddress.parse("4f2a.signature") is None
    assert SlackAddress.parse("slack_T1_C1") is None
    assert SlackAddress.parse("slack_T1_C1_U1_notats") is None


def test_a_button_click_is_the_buttons_payload_in_the_buttons_conversation() -> None:
    click = button_click(block_actions("/request_human", "U1", "C1", message_ts="1700000009.000100",
                                       thread_ts="1700000000.000200"))
    assert click is not None and click.text == "/request_human"
    assert click.address == SlackAddress(TEAM, "C1", "U1", "1700000000.000200")
    in_dm = button_click(block_actions("/greet", "U1", "D1", message_ts="1700000009.000100"))
    assert in_dm is not None and in_dm.address == SlackAddress(TEAM, "D1", "U1", None)


def test_clicks_without_a_value_or_with_bad_ids_are_not_messages() -> None:
    link = block_actions("x", "U1", "D1", message_ts="1700000009.000100")
    del link["actions"][0]["value"]
    assert button_click(link) is None
    assert button_click({"type": "block_actions", "actions": []}) is None
    with pytest.raises(MalformedEvent):
        button_click(block_actions("/greet", "not a user", "D1", message_ts="1700000009.000100"))
