"""Drift alarms in the Slack alert channel, against a real redis-server and the loopback Slack API:
each open alarm posted once (also by a second process taking over), with kind, subject, since,
severity and detail but no conversation id, and retried while Slack is down."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime

import pytest

from handoff.drift.alarms import StoredAlarm
from handoff.slack.config import SlackConfig
from handoff.slack.drift_alarms import DriftAlarmPoster
from handoff.slack.state import SlackState
from handoff.slack.web import web_client
from handoff.task_stop import cancel_and_wait
from tests.slack.conftest import SLACK_TOKEN
from tests.slack_api import FakeSlackApi

pytestmark = pytest.mark.asyncio
CHANNEL = "#leads-alerts"


def stored(alarm_id: int, kind: str, subject: str, since: datetime, detail: str, severity: float) -> StoredAlarm:
    """An open alarm as the insights database gives it back, naming two conversations."""
    return StoredAlarm(alarm_id, kind, subject, since, since, detail, severity, ["conv-secret-1", "conv-secret-2"],
                       "m1", None, None)


STALE = stored(1, "stale_answer", "utter_faq/late_fees@3f2a", datetime(2026, 3, 2, 9, 30),
                    "4 of the last 6 verdicts on this answer say it is out of date <!channel>", 4.0)
RATE = stored(2, "fallback_rate", "order_status", datetime(2026, 3, 2, 11, 0),
                   "fallback rate rose from 4% to 19% over 150 turns", 2.5)


def poster(redis_url: str, prefix: str, slack_api: FakeSlackApi, alarms: list[StoredAlarm]) \
        -> tuple[DriftAlarmPoster, SlackState]:
    state = SlackState(redis_url, prefix)
    config = SlackConfig(bot_token=SLACK_TOKEN, alert_channel=CHANNEL, api_url=slack_api.base_url)
    return DriftAlarmPoster(state, web_client(config), CHANNEL, lambda: list(alarms), 0.05), state


async def test_each_open_alarm_is_posted_once_without_conversations(redis_url: str,
                                                                     slack_api: FakeSlackApi) -> None:
    prefix = f"test-{uuid.uuid4().hex[:8]}"
    alarms = [STALE]
    first, state = poster(redis_url, prefix, slack_api, alarms)
    assert await first.post_new() == 1
    assert await first.post_new() == 0  # the next poll finds it posted
    (post,) = [call for call in slack_api.posts(channel=CHANNEL) if "late_fees@3f2a" in call.args["text"]]
    text = str(post.args)
    assert "Answer marked out of date" in post.args["text"] and "utter_faq/late_fees@3f2a" in text
    assert "since 2026-03-02 09:30 UTC" in post.args["text"] and "severity 4.00" in post.args["text"]
    assert "&lt;!channel&gt;" in text and "<!channel>" not in text  # the detail cannot ping the channel
    assert "conv-secret" not in text

    # A second process (after a restart) posts only what is new.
    alarms.append(RATE)
    second, second_state = poster(redis_url, prefix, slack_api, alarms)
    assert await second.post_new() == 1
    assert [call.args["text"].split(":")[0] for call in slack_api.posts(channel=CHANNEL)[-2:]] == [
        "Answer marked out of date", "Fallback rate changed"]
    await state.close()
    await second_state.close()


async def test_the_running_task_waits_out_slack_being_down(redis_url: str, slack_api: FakeSlackApi) -> None:
    prefix = f"test-{uuid.uuid4().hex[:8]}"
    alarm = stored(7, "handoff_rate", f"intent-{prefix}", datetime(2026, 3, 3, 8, 0), "rose", 1.5)
    running, state = poster(redis_url, prefix, slack_api, [alarm])
    slack_api.fail_next(2)
    task = asyncio.create_task(running.run())
    try:
        calls = await asyncio.to_thread(slack_api.wait_for, lambda: [
            call for call in slack_api.posts(channel=CHANNEL) if f"intent-{prefix}" in call.args["text"]])
        await asyncio.sleep(0.3)  # several more polls
        assert len([call for call in slack_api.posts(channel=CHANNEL) if f"intent-{prefix}" in call.args["text"]]) \
            == len(calls) == 1
    finally:
        await cancel_and_wait([task])
        await state.close()
