"""Handoff alerts against a real redis-server and the loopback Slack API: posted once per ticket,
updated in place on claim and resolve, also by a process started after a restart, and held back
(not lost) while Slack is down."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable

import pytest
import pytest_asyncio

from handoff.models import Ticket
from handoff.slack.alerts import SlackAlerts
from handoff.slack.config import SlackConfig
from handoff.slack.state import SlackState
from handoff.slack.tail import LeasedEventTail
from handoff.slack.web import web_client
from handoff.store import HandoffStore, StoreConfig
from handoff.task_stop import cancel_and_wait
from tests.slack.conftest import SLACK_TOKEN
from tests.slack_api import FakeSlackApi, SlackCall

pytestmark = pytest.mark.asyncio
CONVERSATION = "slack_T1_D1_U1"
NAMES = {"alice": "Alice Martin"}


class AlertsProcess:
    """What one agent-service process runs for alerts; `stop` is a crash or restart."""

    def __init__(self, redis_url: str, prefix: str, slack_api: FakeSlackApi) -> None:
        self.state = SlackState(redis_url, prefix)
        self.store = HandoffStore(redis_url, StoreConfig(prefix=prefix))
        config = SlackConfig(bot_token=SLACK_TOKEN, alert_channel="#agents", api_url=slack_api.base_url)
        alerts = SlackAlerts(self.store, self.state, web_client(config), config.alert_channel,
                             "http://127.0.0.1:5006", lambda agent: NAMES.get(agent, agent))
        self.task = asyncio.create_task(LeasedEventTail(self.store, self.state, "alerts", alerts).run())

    async def stop(self) -> None:
        await cancel_and_wait([self.task])
        await self.state.close()
        await self.store.close()


@pytest_asyncio.fixture(loop_scope="function")
async def prefix(redis_url: str) -> AsyncIterator[str]:
    """A fresh key prefix whose alert tail already has its cursor (as after a first start)."""
    name = f"test-{uuid.uuid4().hex[:8]}"
    state = SlackState(redis_url, name)
    await state.set_tail_cursor("alerts", "0-0")
    await state.close()
    yield name


async def hand_off(store: HandoffStore) -> None:
    ticket = Ticket(CONVERSATION, reason="judgement:dispute_charge", priority=4,
                    summary='Disputed charge · last said "<!channel> you charged me twice"')
    result = await store.request_handoff(CONVERSATION, ticket, priority=4, channel="handoff_slack")
    assert result.ok


def alert_posts(slack_api: FakeSlackApi) -> list[SlackCall]:
    return slack_api.posts("chat.postMessage", channel="#agents")


async def wait_for(slack_api: FakeSlackApi, found: Callable[[], list[SlackCall]], count: int = 1) -> list[SlackCall]:
    """Waits in a thread, so the alert tasks on this loop keep running."""
    return await asyncio.to_thread(slack_api.wait_for, found, count, 20.0)


async def test_alert_is_posted_then_updated_in_place_across_a_restart(
        redis_url: str, prefix: str, slack_api: FakeSlackApi) -> None:
    process = AlertsProcess(redis_url, prefix, slack_api)
    before = len(alert_posts(slack_api))
    await hand_off(process.store)
    posted = (await wait_for(slack_api, lambda: alert_posts(slack_api), before + 1))[-1]
    section = posted.args["blocks"][0]["text"]["text"]
    context = posted.args["blocks"][1]["elements"][0]["text"]
    assert "priority *4*" in section and "judgement:dispute_charge" in section
    assert "&lt;!channel&gt; you charged me twice" in section  # a customer cannot ping the channel
    assert "Waiting in the queue" in context
    assert f"<http://127.0.0.1:5006/console#/conversations/{CONVERSATION}|Open in the agent console>" in context
    for _ in range(100):  # the restart comes after the post was recorded (not in between)
        if await process.state.alert(CONVERSATION) is not None:
            break
        await asyncio.sleep(0.05)
    await process.stop()

    restarted = AlertsProcess(redis_url, prefix, slack_api)
    where = {"channel": posted.reply["channel"], "ts": posted.reply["ts"]}
    try:
        assert (await restarted.store.claim(CONVERSATION, "alice", 3)).ok
        await wait_for(slack_api, lambda: [c for c in slack_api.posts("chat.update", **where)
                                           if "Claimed by Alice Martin" in str(c.args["blocks"])])
        assert (await restarted.store.resolve(CONVERSATION, "alice")).ok
        resolved = await wait_for(slack_api, lambda: [c for c in slack_api.posts("chat.update", **where)
                                                      if "Resolved by Alice Martin" in str(c.args["blocks"])])
        assert resolved[-1].args["text"].startswith("Handoff closed")
        assert len(alert_posts(slack_api)) == before + 1  # updated, never posted again
    finally:
        await restarted.stop()


async def test_slack_outage_delays_the_alert_without_losing_it(
        redis_url: str, prefix: str, slack_api: FakeSlackApi) -> None:
    before = len(alert_posts(slack_api))
    slack_api.fail_next(2, status=503)
    process = AlertsProcess(redis_url, prefix, slack_api)
    try:
        await hand_off(process.store)
        posts = await wait_for(slack_api, lambda: alert_posts(slack_api), before + 1)
        assert len(posts) == before + 1
    finally:
        await process.stop()


async def test_two_processes_post_each_alert_once(redis_url: str, prefix: str, slack_api: FakeSlackApi) -> None:
    before = len(alert_posts(slack_api))
    processes = [AlertsProcess(redis_url, prefix, slack_api) for _ in range(2)]
    try:
        await hand_off(processes[0].store)
        await wait_for(slack_api, lambda: alert_posts(slack_api), before + 1)
        await asyncio.sleep(1.0)
        assert len(alert_posts(slack_api)) == before + 1
    finally:
        for process in processes:
            await process.stop()


async def test_a_customer_who_leaves_closes_the_alert(redis_url: str, prefix: str, slack_api: FakeSlackApi) -> None:
    process = AlertsProcess(redis_url, prefix, slack_api)
    before = len(alert_posts(slack_api))
    try:
        await hand_off(process.store)
        posted = (await wait_for(slack_api, lambda: alert_posts(slack_api), before + 1))[-1]
        assert posted.args["text"].startswith("New handoff")
        assert (await process.store.abandon(CONVERSATION)).ok
        closed = await wait_for(slack_api, lambda: slack_api.posts("chat.update", ts=posted.reply["ts"]))
        assert closed[-1].args["text"].startswith("Handoff closed")
        assert "The customer left" in str(closed[-1].args["blocks"])
    finally:
        await process.stop()
