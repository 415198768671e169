"""The Rasa process's `/metrics`, served by the channels' blueprints in an in-process Sanic: behind the
metrics token, in Prometheus's format, counting messages by channel and route, with no conversation
id anywhere; and bot turns by outcome, counted where the tracker store saves them."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ConversationPaused, Event, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from handoff.channels.rest import HandoffRestInput
from handoff.channels.socketio import HandoffSocketIOInput
from handoff.metrics.bot_turns import BotTurns
from handoff.metrics.channel_metrics import REGISTRY
from handoff.metrics.labels import triggers
from handoff.settings import HandoffSettings
from handoff.store import HandoffStore
from handoff.tracker_store import AppendOnlyRedisTrackerStore
from tests.handoff.test_channel_core import REST, EchoBot, context, sanic_test_mode, serving
from tests.model_paths import DOMAIN_DIR

__all__ = ["sanic_test_mode"]  # the autouse fixture, for the in-process servers

TOKEN = "metrics-test-token-0123456789"
DOMAIN = Domain.load(str(DOMAIN_DIR))


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


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def turn(intent: str, action: str, channel: str = "handoff_rest") -> list[Event]:
    return [UserUttered("text", {"name": intent, "confidence": 0.9}, input_channel=channel),
            ActionExecuted(action)]


@pytest.mark.asyncio
async def test_bot_turns_are_counted_once_from_the_events_a_save_appends(redis_url: str) -> None:
    """Each save counts the turn it appends (by its message's channel), a save without a new turn
    counts nothing, and a handoff's trigger is the ticket's, read only for handoff turns."""
    store = context(redis_url).store
    url = urlsplit(redis_url)
    tracker_store = AppendOnlyRedisTrackerStore(DOMAIN, host=url.hostname, port=url.port, password=url.password,
                                                key_prefix=f"t{uuid.uuid4().hex[:8]}", record_exp=600)
    tracker_store.bot_turns = BotTurns(lambda: store, HandoffSettings())
    turns = {"answered": turn("greet", "utter_greet"), "fallback": turn("nlu_fallback", "utter_please_rephrase"),
             "handoff": turn("complaint", "action_handoff")}
    before = {outcome: value("handoff_bot_turns_total", channel="handoff_rest", outcome=outcome)
              for outcome in turns}
    others = value("handoff_bot_turns_total", channel="other", outcome="answered")
    complaints = value("handoff_handoffs_total", trigger="judgement:complaint")
    try:
        await store.request_handoff("c/handoff", {"reason": "judgement:complaint"}, 3, "handoff_rest")
        for name, events in turns.items():
            tracker = DialogueStateTracker.from_events(f"c/{name}", events)
            await tracker_store.save(tracker)
            await tracker_store.save(tracker)  # nothing new: nothing counted
        paused = DialogueStateTracker.from_events("c/paused", [*turns["answered"], ConversationPaused(),
                                                               UserUttered("hello?", input_channel="handoff_rest")])
        await tracker_store.save(paused)  # the bot stayed silent: no turn
        for channel in ("rest", None):  # not a customer channel (Rasa's API, an external event)
            await tracker_store.save(DialogueStateTracker.from_events(
                f"c/api-{channel}", turn("greet", "utter_greet", channel)))
        hand_back = UserUttered.create_external("handoff_resolved", [], "handoff_rest")
        await tracker_store.save(DialogueStateTracker.from_events(  # the agent service's hand-back
            "c/back", [*turns["handoff"], hand_back, ActionExecuted("utter_welcome_back")]))
    finally:
        await tracker_store.close()
        await store.close()
    for outcome in turns:
        assert value("handoff_bot_turns_total", channel="handoff_rest", outcome=outcome) - before[outcome] == 1
    assert value("handoff_bot_turns_total", channel="other", outcome="answered") == others
    assert value("handoff_handoffs_total", trigger="judgement:complaint") - complaints == 1


@pytest.mark.asyncio
async def test_a_handoff_turn_whose_ticket_cannot_be_read_is_counted_without_its_trigger() -> None:
    def unreachable_store() -> HandoffStore:
        return HandoffStore("redis://127.0.0.1:1/0")

    bot_turns = BotTurns(unreachable_store, HandoffSettings())
    handoffs = value("handoff_bot_turns_total", channel="handoff_socketio", outcome="handoff")
    triggers = sum(value("handoff_handoffs_total", trigger=trigger) for trigger in triggers_of(HandoffSettings()))
    try:
        await bot_turns.count("c/away", turn("complaint", "action_handoff", "handoff_socketio"))  # raises nothing
    finally:
        await bot_turns.close()
    assert value("handoff_bot_turns_total", channel="handoff_socketio", outcome="handoff") - handoffs == 1
    assert sum(value("handoff_handoffs_total", trigger=trigger)
               for trigger in triggers_of(HandoffSettings())) == triggers


def triggers_of(settings: HandoffSettings) -> list[str]:
    return triggers(settings.judgement_intents)
