"""The Rasa process's `/metrics`, served by the channels' blueprints in an in-process Sanic: behind the
metrics token, in Prometheus's format, counting messages by channel and route and bot turns by
outcome, with no conversation id anywhere."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from handoff.channels.bot_turns import BotTurns
from handoff.channels.rest import HandoffRestInput
from handoff.channels.socketio import HandoffSocketIOInput
from handoff.metrics.channel_metrics import REGISTRY
from handoff.settings import HandoffSettings
from tests.handoff.test_channel_core import REST, EchoBot, context, sanic_test_mode, serving

__all__ = ["sanic_test_mode"]  # the autouse fixture, for the in-process servers

TOKEN = "metrics-test-token-0123456789"


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a scrape by name and labels (the parser fails on a malformed text)."""
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def messages(scrape: dict, route: str, reason: str = "none") -> float:
    key = ("handoff_customer_messages_total",
           frozenset({"channel": "handoff_rest", "route": route, "reason": reason}.items()))
    return scrape.get(key, 0.0)


async def scrape(http: aiohttp.ClientSession, token: str | None = TOKEN) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with http.get("/metrics", headers=headers) as reply:
        if reply.status != 200:
            return reply.status, await reply.json()
        assert reply.content_type == "text/plain"
        return 200, await reply.text()


@pytest.mark.asyncio
async def test_metrics_count_each_message_once_and_need_the_token(redis_url: str) -> None:
    channels = {"handoff_rest": HandoffRestInput(context(redis_url, metrics_token=TOKEN)),
                "handoff_socketio": HandoffSocketIOInput(context=context(redis_url, metrics_token=TOKEN))}
    async with serving(channels, EchoBot()) as base, aiohttp.ClientSession(base) as http:
        for token in (None, "wrong-token"):
            status, body = await scrape(http, token)
            assert status == 401 and "authentication required" in body["error"]
        status, text = await scrape(http)
        before = samples(text)
        async with http.post(f"{REST}/session") as reply:
            conversation_id = (await reply.json())["conversation_id"]
        for body in ({"sender": conversation_id, "message": "hi", "message_id": "m1"},
                     {"sender": conversation_id, "message": "hi", "message_id": "m1"},
                     {"sender": conversation_id, "message": " "}, {"sender": "made-up", "message": "hi"}):
            async with http.post(f"{REST}/webhook", json=body):
                pass
        status, text = await scrape(http)
    after = samples(text)
    assert status == 200
    assert messages(after, "bot") - messages(before, "bot") == 1
    assert messages(after, "duplicate") - messages(before, "duplicate") == 1
    assert messages(after, "refused", "invalid") - messages(before, "refused", "invalid") == 2
    assert messages(after, "human") == messages(before, "human")
    assert conversation_id not in text and "made-up" not in text
    assert ("process_cpu_seconds_total", frozenset()) in after


@pytest.mark.asyncio
async def test_an_empty_metrics_token_opens_nothing(redis_url: str) -> None:
    async with serving({"handoff_rest": HandoffRestInput(context(redis_url))}, EchoBot()) as base, \
            aiohttp.ClientSession(base) as http:
        assert (await scrape(http, ""))[0] == 401
        assert (await scrape(http, "anything"))[0] == 401


@pytest.mark.asyncio
async def test_bot_turns_count_by_outcome_and_handoffs_by_the_tickets_trigger(redis_url: str) -> None:
    channel_context = context(redis_url)
    store = channel_context.store
    trackers = {
        "answered": [UserUttered("hi", {"name": "greet"}), ActionExecuted("utter_greet")],
        "fallback": [UserUttered("hm", {"name": "nlu_fallback"}), ActionExecuted("utter_please_rephrase")],
        "handoff": [UserUttered("bad", {"name": "complaint"}), ActionExecuted("action_handoff")],
    }

    async def read_tracker(conversation_id: str) -> DialogueStateTracker | None:
        events = trackers.get(conversation_id.rpartition("/")[2])
        if events is None:
            raise ConnectionError("the tracker store is away")
        return DialogueStateTracker.from_events(conversation_id, events)

    def value(name: str, **labels: str) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    settings = HandoffSettings()
    turns = BotTurns(read_tracker, store, settings)
    before = {outcome: value("handoff_bot_turns_total", channel="handoff_rest", outcome=outcome)
              for outcome in trackers}
    complaints = value("handoff_handoffs_total", trigger="judgement:complaint")
    try:
        await store.request_handoff("c/handoff", {"reason": "judgement:complaint"}, 3, "handoff_rest")
        for name in trackers:
            await turns.count("handoff_rest", f"c/{name}")
        await turns.count("handoff_rest", "c/unreadable")  # counts nothing, raises nothing
    finally:
        await store.close()
    for outcome in trackers:
        assert value("handoff_bot_turns_total", channel="handoff_rest", outcome=outcome) - before[outcome] == 1
    assert value("handoff_handoffs_total", trigger="judgement:complaint") - complaints == 1
