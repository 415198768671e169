"""Slack's retries are answered once: event ids are taken in Redis (so a retry reaching another
process still counts as seen), and while Redis is away only first attempts are answered."""

from __future__ import annotations

import uuid

import pytest

from handoff.channels.common import ChannelContext
from handoff.channels.slack import HandoffSlackInput
from handoff.settings import HandoffSettings
from handoff.slack.config import SlackConfig
from tests.free_port import free_port

pytestmark = pytest.mark.asyncio
CONFIG = SlackConfig(bot_token="xoxb-t", signing_secret="sign-me", api_url="http://127.0.0.1:9/")


def channel(redis_url: str, prefix: str) -> HandoffSlackInput:
    settings = HandoffSettings(redis_url=redis_url, key_prefix=prefix, session_secret="test-secret")
    return HandoffSlackInput(CONFIG, context=ChannelContext.from_settings(settings))


async def close(*channels: HandoffSlackInput) -> None:
    for each in channels:
        await each.state.close()
        await each.context.store.close()


async def test_an_event_is_taken_once_across_processes(redis_url: str) -> None:
    prefix = f"test-{uuid.uuid4().hex[:8]}"
    first, second = channel(redis_url, prefix), channel(redis_url, prefix)
    try:
        assert await first.first_delivery("Ev0A1", retried=False)
        assert not await first.first_delivery("Ev0A1", retried=True)
        assert not await second.first_delivery("Ev0A1", retried=True)
        assert await second.first_delivery("Ev0A2", retried=False)
    finally:
        await close(first, second)


async def test_without_redis_first_attempts_are_answered_and_retries_are_not() -> None:
    down = channel(f"redis://127.0.0.1:{free_port()}/0", "test")
    try:
        assert await down.first_delivery("Ev0B1", retried=False)
        assert not await down.first_delivery("Ev0B1", retried=True)
    finally:
        await close(down)
