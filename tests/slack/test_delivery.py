"""Agent replies to Slack customers, against a real redis-server and the loopback Slack API: posted
into the customer's thread once, held back (not lost) while Slack is down, not repeated after a
restart, and only for Slack conversations."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from handoff.models import OUTBOX, OUTBOX_FEED
from handoff.slack.config import SlackConfig
from handoff.slack.delivery import SlackDelivery
from handoff.slack.state import SlackState
from handoff.slack.tail import LeasedEventTail
from handoff.slack.web import web_client
from handoff.store import HandoffStore, StoreConfig
from handoff.task_stop import cancel_and_wait
from tests.slack.conftest import SLACK_TOKEN
from tests.slack_api import FakeSlackApi, SlackCall

pytestmark = pytest.mark.asyncio


class DeliveryProcess:
    """What one Rasa process runs to deliver Slack replies; `stop` is a restart."""

    def __init__(self, redis_url: str, prefix: str, slack_api: FakeSlackApi) -> None:
        self.state = SlackState(redis_url, prefix)
        self.store = HandoffStore(redis_url, StoreConfig(prefix=prefix))
        client = web_client(SlackConfig(bot_token=SLACK_TOKEN, signing_secret="s", api_url=slack_api.base_url))
        self.task = asyncio.create_task(
            LeasedEventTail(self.store, self.state, "delivery", SlackDelivery(self.store, self.state, client),
                            feed=OUTBOX_FEED).run())

    async def send(self, conversation_id: str, text: str, kind: str = "text") -> None:
        await self.store.append_message(conversation_id, OUTBOX, uuid.uuid4().hex, "alice", text, kind=kind,
                                        extra={"agent_name": "Alice <Martin>"})

    async def stop(self) -> None:
        await cancel_and_wait([self.task])
        await self.state.close()
        await self.store.close()


@pytest_asyncio.fixture(loop_scope="function")
async def prefix(redis_url: str) -> AsyncIterator[str]:
    name = f"test-{uuid.uuid4().hex[:8]}"
    state = SlackState(redis_url, name)
    await state.set_tail_cursor("delivery", "0-0")
    await state.close()
    yield name


def thread() -> tuple[str, str]:
    """A fresh channel and the conversation id of a customer's thread in it."""
    channel = "C" + uuid.uuid4().hex[:8].upper()
    return channel, f"slack_T1_{channel}_U1_1700000000.000100"


async def posts_to(slack_api: FakeSlackApi, channel: str, count: int) -> list[SlackCall]:
    return await asyncio.to_thread(slack_api.wait_for, lambda: slack_api.posts(channel=channel), count, 20.0)


async def test_replies_reach_the_thread_once_and_survive_a_restart(
        redis_url: str, prefix: str, slack_api: FakeSlackApi) -> None:
    channel, conversation_id = thread()
    process = DeliveryProcess(redis_url, prefix, slack_api)
    await process.send(conversation_id, "typing", kind="typing")
    await process.send(conversation_id, "an internal note", kind="note")
    await process.send(conversation_id, "Hi, I'm Alice <!channel>")
    first = (await posts_to(slack_api, channel, 1))[0].args
    assert first["thread_ts"] == "1700000000.000100"
    assert first["text"] == "*Alice &lt;Martin&gt;*: Hi, I'm Alice &lt;!channel&gt;"
    await asyncio.sleep(0.5)
    await process.stop()

    restarted = DeliveryProcess(redis_url, prefix, slack_api)
    try:
        await restarted.send(conversation_id, "Anything else?")
        posts = await posts_to(slack_api, channel, 2)
        await asyncio.sleep(0.5)
        assert [call.args["text"] for call in slack_api.posts(channel=channel)] == [
            first["text"], "*Alice &lt;Martin&gt;*: Anything else?"]
        assert len(posts) == 2
    finally:
        await restarted.stop()


async def test_in_a_direct_message_replies_follow_the_customers_latest_thread(
        redis_url: str, prefix: str, slack_api: FakeSlackApi) -> None:
    dm = "D" + uuid.uuid4().hex[:8].upper()
    conversation_id = f"slack_T1_{dm}_U1"
    process = DeliveryProcess(redis_url, prefix, slack_api)
    try:
        await process.send(conversation_id, "at the top")
        assert (await posts_to(slack_api, dm, 1))[0].args.get("thread_ts") is None
        await process.state.set_reply_thread(conversation_id, "1700000050.000100")
        await process.send(conversation_id, "in your thread")
        assert (await posts_to(slack_api, dm, 2))[1].args["thread_ts"] == "1700000050.000100"
    finally:
        await process.stop()


async def test_a_slack_outage_delays_replies_without_losing_them(
        redis_url: str, prefix: str, slack_api: FakeSlackApi) -> None:
    channel, conversation_id = thread()
    slack_api.fail_next(2, status=503)
    process = DeliveryProcess(redis_url, prefix, slack_api)
    try:
        await process.send(conversation_id, "one")
        await process.send(conversation_id, "two")
        posts = await posts_to(slack_api, channel, 2)
        assert [call.args["text"] for call in posts] == ["*Alice &lt;Martin&gt;*: one", "*Alice &lt;Martin&gt;*: two"]
    finally:
        await process.stop()


async def test_other_channels_conversations_are_left_alone(
        redis_url: str, prefix: str, slack_api: FakeSlackApi) -> None:
    process = DeliveryProcess(redis_url, prefix, slack_api)
    before = len(slack_api.calls)
    try:
        await process.send("4f2a9c.0123456789abcdef01234567", "for a widget customer")
        await asyncio.sleep(1.0)
        assert len(slack_api.calls) == before
    finally:
        await process.stop()
