"""Slack end to end: signed Events API payloads posted to the running system's Slack channel, and
what it posts to the loopback stand-in of Slack's Web API: bot answers, the handoff with the agent's
replies in the customer's thread, the agents' alert posted and updated, signatures refused, noise
ignored and retries answered once."""

from __future__ import annotations

import time
import uuid

import pytest
import requests

from rasa_bot.system import SystemLayout
from tests.integration.agent_client import AgentClient
from tests.integration.domain_texts import response_text
from tests.slack_api import FakeSlackApi, SlackCall
from tests.slack_events import (
    BOT_ID,
    BOT_USER,
    TEAM,
    SlackSender,
    app_mention,
    block_actions,
    event_callback,
    message,
    new_ts,
)
from tests.system_fixtures import AGENTS, SLACK_ALERT_CHANNEL, SLACK_SIGNING_SECRET

pytestmark = pytest.mark.model


@pytest.fixture
def slack(bot_system: SystemLayout) -> SlackSender:
    return SlackSender(f"{bot_system.rasa_url}/webhooks/handoff_slack/webhook", SLACK_SIGNING_SECRET)


@pytest.fixture
def alice(bot_system: SystemLayout) -> AgentClient:
    agent = AgentClient(bot_system, AGENTS[0]["token"])
    agent.go_online()
    return agent


def new_user() -> str:
    return "U" + uuid.uuid4().hex[:9].upper()


def new_channel(kind: str) -> str:
    return kind + uuid.uuid4().hex[:9].upper()


def posted_to(slack_api: FakeSlackApi, channel: str, count: int = 1, timeout: float = 30.0,
              **matching: object) -> list[SlackCall]:
    return slack_api.wait_for(lambda: slack_api.posts(channel=channel, **matching), count, timeout)


def stays_quiet(slack_api: FakeSlackApi, channel: str, seconds: float = 3.0) -> bool:
    time.sleep(seconds)
    return not slack_api.posts(channel=channel)


def test_url_verification_echoes_the_challenge(slack: SlackSender) -> None:
    reply = slack.post({"token": "x", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
                        "type": "url_verification"})
    assert reply.status_code == 200
    assert reply.json() == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}


def test_a_direct_message_gets_the_bots_answer(slack: SlackSender, slack_api: FakeSlackApi) -> None:
    dm = new_channel("D")
    assert slack.post(event_callback(message("how long does a refund take?", new_user(), dm))).status_code == 200
    answer = posted_to(slack_api, dm)[0]
    assert answer.args["text"] == response_text("utter_faq/refund_timeline")
    assert answer.args.get("thread_ts") is None  # a DM is answered in the DM itself


def test_a_button_click_is_answered_like_a_message(slack: SlackSender, slack_api: FakeSlackApi) -> None:
    dm = new_channel("D")
    reply = slack.click(block_actions("how long does a refund take?", new_user(), dm, message_ts=new_ts()))
    assert reply.status_code == 200
    assert posted_to(slack_api, dm)[0].args["text"] == response_text("utter_faq/refund_timeline")


def test_bad_or_stale_signatures_are_refused(slack: SlackSender, slack_api: FakeSlackApi) -> None:
    dm = new_channel("D")
    payload = event_callback(message("how long does a refund take?", new_user(), dm))
    assert slack.post(payload, secret="not-the-signing-secret").status_code == 401
    assert slack.post(payload, timestamp=int(time.time()) - 6 * 60).status_code == 401
    unsigned = requests.post(slack.url, json=payload, timeout=30)
    assert unsigned.status_code == 401
    assert stays_quiet(slack_api, dm)


def test_a_retried_event_is_answered_once(slack: SlackSender, slack_api: FakeSlackApi) -> None:
    dm = new_channel("D")
    payload = event_callback(message("which payment methods can I use?", new_user(), dm))
    assert slack.post(payload).status_code == 200
    retry = slack.post(payload, headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
    assert retry.status_code == 200
    assert posted_to(slack_api, dm)[0].args["text"] == response_text("utter_faq/payment_methods")
    time.sleep(3.0)
    assert len(slack_api.posts(channel=dm)) == 1


def test_noise_gets_no_answer(slack: SlackSender, slack_api: FakeSlackApi) -> None:
    dm, room, user = new_channel("D"), new_channel("C"), new_user()
    for event in [
        message("how long does a refund take?", BOT_USER, dm, bot_id=BOT_ID),
        message("how long does a refund take?", "U0OTHER", dm, subtype="bot_message", bot_id="B0OTHER"),
        {"type": "message", "subtype": "message_changed", "channel": dm, "ts": new_ts(), "channel_type": "im",
         "message": {"type": "message", "user": user, "text": "how long does a refund take?", "ts": new_ts()}},
        message(f"<@{user}> has joined the channel", user, room, channel_type="channel", subtype="channel_join"),
        message("how long does a refund take?", user, room, channel_type="channel"),  # not addressed to us
    ]:
        assert slack.post(event_callback(event)).status_code == 200
    assert stays_quiet(slack_api, dm, 2.0) and stays_quiet(slack_api, room, 1.0)


def test_malformed_payloads_get_a_clear_error(slack: SlackSender) -> None:
    assert slack.post({"type": "event_callback", "event_id": "Ev1"}).status_code == 400
    bad = slack.post(event_callback({"type": "message", "user": "U1", "text": "hi", "channel": "D1"}))
    assert bad.status_code == 400 and "ts" in bad.text


def test_handoff_in_a_channel_thread_with_alert(slack: SlackSender, slack_api: FakeSlackApi,
                                                alice: AgentClient) -> None:
    room, user = new_channel("C"), new_user()
    mention_ts = new_ts()
    conversation_id = f"slack_{TEAM}_{room}_{user}_{mention_ts}"

    # The customer mentions the app in a channel: the bot answers in a thread of that message.
    assert slack.post(event_callback(app_mention("I want to talk to a real person", user, room,
                                                 ts=mention_ts))).status_code == 200
    # Slack also sends the same message as a plain `message` event: not a second answer.
    slack.post(event_callback(message(f"<@{BOT_USER}> I want to talk to a real person", user, room,
                                      channel_type="channel", ts=mention_ts)))
    said = [call.args for call in posted_to(slack_api, room, 2)]
    assert said[0]["text"] == response_text("utter_handoff_request_human")
    assert "in the queue" in said[1]["text"]
    assert all(args["thread_ts"] == mention_ts for args in said)

    # The agents' channel gets the alert, with the reason, priority, summary and the console link.
    alert = posted_to(slack_api, SLACK_ALERT_CHANNEL)[-1]
    shown = str(alert.args["blocks"])
    assert "explicit_request" in shown and "Waiting in the queue" in shown and "priority *3*" in shown
    assert f"/console#/conversations/{conversation_id}|Open in the agent console" in shown
    where = {"channel": alert.reply["channel"], "ts": alert.reply["ts"]}

    assert alice.claim(conversation_id).status_code == 200
    slack_api.wait_for(lambda: [c for c in slack_api.posts("chat.update", **where)
                                if "Claimed by Alice Martin" in str(c.args["blocks"])])

    # The agent's reply reaches the customer's thread.
    assert alice.send(conversation_id, "Hi, I'm Alice. How can I help?").status_code == 201
    reply = posted_to(slack_api, room, 3)[2].args
    assert reply["thread_ts"] == mention_ts and "Hi, I'm Alice. How can I help?" in reply["text"]

    # The customer answers in the thread without mentioning the app: the agent gets it, the bot is quiet.
    assert slack.post(event_callback(message("my order KL-100001 never arrived", user, room,
                                             channel_type="channel", thread_ts=mention_ts))).status_code == 200
    wait_for_agent_to_see(alice, conversation_id, "my order KL-100001 never arrived")
    assert len(slack_api.posts(channel=room)) == 3

    resolved = alice.resolve(conversation_id)
    assert resolved.status_code == 200, resolved.text
    welcome = posted_to(slack_api, room, 4)[3].args
    assert welcome["text"] == response_text("utter_welcome_back") and welcome["thread_ts"] == mention_ts
    slack_api.wait_for(lambda: [c for c in slack_api.posts("chat.update", **where)
                                if "Resolved by Alice Martin" in str(c.args["blocks"])])
    assert len([c for c in slack_api.posts(channel=SLACK_ALERT_CHANNEL)
                if conversation_id in str(c.args["blocks"])]) == 1


def wait_for_agent_to_see(agent: AgentClient, conversation_id: str, text: str) -> None:
    deadline = time.monotonic() + 15
    while text not in [m["text"] for m in agent.conversation(conversation_id)["messages"]]:
        assert time.monotonic() < deadline, f"{text!r} never reached the agent"
        time.sleep(0.2)


def test_handoff_in_a_direct_message_follows_the_customer_into_a_thread(
        slack: SlackSender, slack_api: FakeSlackApi, alice: AgentClient) -> None:
    dm, user = new_channel("D"), new_user()
    conversation_id = f"slack_{TEAM}_{dm}_{user}"
    assert slack.post(event_callback(message("I want to talk to a real person", user, dm))).status_code == 200
    said = posted_to(slack_api, dm, 2)
    assert all(call.args.get("thread_ts") is None for call in said)
    alice.wait_for_ticket(conversation_id)
    assert alice.claim(conversation_id).status_code == 200

    # The customer replies in a thread of the bot's last message: still the same conversation.
    thread = said[1].reply["ts"]
    assert slack.post(event_callback(message("are you there?", user, dm, thread_ts=thread))).status_code == 200
    wait_for_agent_to_see(alice, conversation_id, "are you there?")
    assert alice.send(conversation_id, "Yes, Alice here.").status_code == 201
    reply = posted_to(slack_api, dm, 3)[2].args
    assert reply["thread_ts"] == thread and reply["text"].endswith("Yes, Alice here.")
    assert alice.resolve(conversation_id).status_code == 200
