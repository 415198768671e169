"""Thumbs for bot-only conversations: offered over socket.io after the bot's goodbye when no person
ever had the conversation, stored once per end with the retention's expiry, rate-limited, erased
with the conversation."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from rasa.core.channels.channel import UserMessage

from handoff.channels.socketio import HandoffSocketIOInput
from handoff.erase import CONVERSATION, Eraser, Subject
from tests.handoff.test_channel_core import context, sanic_test_mode, serving
from tests.integration.socket_customer import SocketCustomer

__all__ = ["sanic_test_mode"]  # the autouse fixture, so one process may start several Sanic apps
pytestmark = pytest.mark.asyncio


async def goodbye_bot(message: UserMessage) -> None:
    """Answers "bye" with the goodbye response (as Rasa's response action sends it), else greets."""
    action = "utter_goodbye" if message.text == "bye" else "utter_greet"
    await message.output_channel.send_response(message.sender_id, {"text": f"{action}!", "utter_action": action})


async def thumb(customer: SocketCustomer, data: Any) -> dict[str, Any]:
    await customer.client.emit("bot_feedback", data)
    return (await customer.next_event("bot_feedback_saved", timeout=10))[1]


async def test_the_bots_goodbye_offers_one_thumb_stored_until_the_retention_ends(redis_url: str) -> None:
    channel_context = context(redis_url, retention_days=2)
    channel = HandoffSocketIOInput(context=channel_context)
    store = channel_context.store
    async with serving({"handoff_socketio": channel}, goodbye_bot) as base:
        customer = SocketCustomer(SimpleNamespace(rasa_url=base))  # type: ignore[arg-type]
        conversation_id = await customer.connect()
        try:
            assert (await thumb(customer, {"helpful": True}))["saved"] is False, "nothing offered yet"
            await customer.say("hi")
            # The stand-in bot has no lock store: the greeting is awaited before "bye", as Rasa's lock
            # store would order them, so the two answers cannot cross.
            seen = [await customer.next_event(timeout=10)]
            await customer.say("bye")
            seen += [await customer.next_event(timeout=10) for _ in range(2)]
            assert [event for event, _ in seen] == ["bot_uttered", "bot_uttered", "bot_feedback_offer"]
            assert [data.get("text") for _, data in seen[:2]] == ["utter_greet!", "utter_goodbye!"]
            assert await thumb(customer, {"helpful": "yes"}) == {"saved": False,
                                                                 "error": "feedback is {helpful: true|false}"}
            assert await thumb(customer, {"helpful": False}) == {"saved": True}
            assert await thumb(customer, {"helpful": True}) == {"saved": False}, "each end is rated once"
            redis = store.connections.commands
            feedback_key = store.keys.bot_feedback(conversation_id)
            assert list((await redis.hgetall(feedback_key)).values()) == ["not_helpful"]
            assert 2 * 86_400 - 5 <= await redis.ttl(feedback_key) <= 2 * 86_400

            await customer.say("bye")  # a second end of the same conversation
            assert (await customer.next_event("bot_feedback_offer", timeout=10))[0] == "bot_feedback_offer"
            assert 0 < await redis.ttl(store.keys.bot_feedback_due(conversation_id)) <= 86_400
            assert await thumb(customer, {"helpful": True}) == {"saved": True}
            assert sorted((await redis.hgetall(feedback_key)).values()) == ["helpful", "not_helpful"]

            report = await Eraser(store, "rasa").erase(Subject.parse(CONVERSATION, conversation_id), by="test")
            assert report.key_kinds.get("bot_feedback") == 1
            assert not await redis.exists(feedback_key)
        finally:
            await customer.client.eio.disconnect(abort=True)


async def test_no_thumb_once_a_person_had_the_conversation(redis_url: str) -> None:
    channel_context = context(redis_url)
    channel = HandoffSocketIOInput(context=channel_context)
    store = channel_context.store
    async with serving({"handoff_socketio": channel}, goodbye_bot) as base:
        customer = SocketCustomer(SimpleNamespace(rasa_url=base))  # type: ignore[arg-type]
        conversation_id = await customer.connect()
        try:
            assert (await store.request_handoff(conversation_id, {"reason": "explicit_request"}, 3, "socketio")).ok
            assert (await store.claim(conversation_id, "alice", 3)).ok
            assert (await store.resolve(conversation_id, "alice")).ok
            await customer.say("bye")
            assert (await customer.next_event("bot_uttered", timeout=10))[1]["text"] == "utter_goodbye!"
            assert await thumb(customer, {"helpful": True}) == {"saved": False}
            assert not await store.connections.commands.exists(store.keys.bot_feedback_due(conversation_id))
        finally:
            await customer.client.eio.disconnect(abort=True)


async def test_thumbs_over_the_limit_are_refused_with_an_error(redis_url: str) -> None:
    channel = HandoffSocketIOInput(context=context(redis_url, conversation_feedback_limit={"count": 1, "seconds": 30}))
    async with serving({"handoff_socketio": channel}, goodbye_bot) as base:
        customer = SocketCustomer(SimpleNamespace(rasa_url=base))  # type: ignore[arg-type]
        await customer.connect()
        try:
            assert (await thumb(customer, {"helpful": True}))["saved"] is False  # counted, none due
            await customer.client.emit("bot_feedback", {"helpful": True})
            _, error = await customer.next_event("handoff_error", timeout=10)
            assert (error["status"], error["retry_after"]) == (429, 30)
            saved = (await customer.next_event("bot_feedback_saved", timeout=10))[1]
            assert saved["saved"] is False and "too many feedback" in saved["error"]
        finally:
            await customer.client.eio.disconnect(abort=True)
