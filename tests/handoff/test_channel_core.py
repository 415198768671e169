"""The channel core: how a client's message is read and routed, the refusals every channel answers
with, and the channels' blueprints served by an in-process Sanic (the REST channel end to end with
a stand-in for Rasa, as docs/adding-a-channel.md suggests testing a new channel)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from sanic import Sanic

from handoff.channels.common import ChannelContext
from handoff.channels.customer_turn import CustomerTurns, customer_message_from
from handoff.channels.refusals import AGENTS_UNAVAILABLE, AgentsUnavailable, apology
from handoff.channels.rest import HandoffRestInput
from handoff.channels.router import CustomerMessage, MessageRejected
from handoff.channels.slack import HandoffSlackInput
from handoff.channels.socketio import HandoffSocketIOInput
from handoff.models import INBOX, OUTBOX
from handoff.settings import HandoffSettings
from handoff.slack.config import SlackConfig
from handoff.store import StoreUnavailable
from tests.free_port import free_port
from tests.integration.socket_customer import SocketCustomer
from tests.socketio_handshake import CONNECTED, REFUSED, connect_reply

REST = "/webhooks/handoff_rest"


class EchoBot:
    """Stands in for Rasa's on_new_message: records the message and answers it once."""

    def __init__(self) -> None:
        self.received: list[UserMessage] = []

    async def __call__(self, message: UserMessage) -> None:
        self.received.append(message)
        await message.output_channel.send_text_message(message.sender_id, f"echo: {message.text}")


def context(redis_url: str, **settings: Any) -> ChannelContext:
    return ChannelContext.from_settings(HandoffSettings(
        redis_url=redis_url, key_prefix=f"test-{uuid.uuid4().hex[:10]}", session_secret="test-secret", **settings))


@pytest.fixture(autouse=True)
def sanic_test_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lets one process start several Sanic apps (as sanic-testing does)."""
    monkeypatch.setattr(Sanic, "test_mode", True)


@asynccontextmanager
async def serving(channels: dict[str, Any], on_new_message: Any) -> AsyncIterator[str]:
    """The channels' blueprints under /webhooks/<name>, as Rasa mounts them; yields the base URL."""
    app = Sanic(f"channels-{uuid.uuid4().hex[:8]}")
    for name, channel in channels.items():
        app.blueprint(channel.blueprint(on_new_message), url_prefix=f"/webhooks/{name}")
    port = free_port()
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True)
    await server.startup()
    await server.before_start()
    await server.after_start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await server.before_stop()
        await server.close()
        await server.after_stop()


async def nothing_offered(_conversation_id: str) -> set[str]:
    return set()


@pytest.mark.asyncio
async def test_a_clients_message_keeps_its_allowed_metadata_and_usable_message_id(redis_url: str) -> None:
    channel_context = context(redis_url, customer_metadata_keys=["page"])
    await channel_context.store.close()
    router = channel_context.router
    sent = {"page": "/", "is_external": True, "lookup_failures": 0}
    message = customer_message_from({"message": "hi", "metadata": sent, "message_id": "m-1"}, "c1", "web", router)
    assert message == CustomerMessage("c1", "hi", "m-1", "web", {"page": "/"})
    odd = customer_message_from({"message": "hi", "metadata": "page", "message_id": "x" * 101}, "c1", "web", router)
    assert odd.metadata == {} and odd.message_id != "x" * 101 and len(odd.message_id) == 32
    for missing in ({}, {"message": 7}, {"message": "  "}, {"message": "x" * 10_000},
                    {"message": "hi", "metadata": {"page": "x" * 300_000}}):
        with pytest.raises(MessageRejected):
            customer_message_from(missing, "c1", "web", router)


@pytest.mark.asyncio
async def test_a_bot_turn_reaches_rasa_with_the_channels_output_and_allowed_metadata(redis_url: str) -> None:
    channel_context, bot = context(redis_url, customer_metadata_keys=["page"]), EchoBot()
    output = CollectingOutputChannel()
    try:
        route = await CustomerTurns(channel_context.router, bot, nothing_offered, channel_context.limits).route(
            CustomerMessage("c1", "hello", "m1", "web", {"page": "/", "is_external": True}), output,
            lambda: len(output.messages))
    finally:
        await channel_context.store.close()
    assert route == "bot"
    [received] = bot.received
    assert (received.text, received.sender_id, received.input_channel) == ("hello", "c1", "web")
    assert received.metadata == {"page": "/"} and received.output_channel is output
    assert [m["text"] for m in output.messages] == ["echo: hello"]


@pytest.mark.asyncio
async def test_only_commands_the_bot_offered_reach_rasa_while_an_agent_gets_the_text_as_written(
        redis_url: str) -> None:
    channel_context, bot = context(redis_url), EchoBot()

    async def deny_offered(conversation_id: str) -> set[str]:
        return {"/deny"} if conversation_id == "c1" else set()

    turns = CustomerTurns(channel_context.router, bot, deny_offered, channel_context.limits)
    output = CollectingOutputChannel()
    try:
        for number, text in enumerate(["/deny", "/handoff_resolved", '/inform{"lookup_failures": 0}']):
            assert await turns.route(CustomerMessage("c1", text, f"m{number}", "web"), output,
                                     lambda: len(output.messages)) == "bot"
        assert await turns.route(CustomerMessage("c2", "/deny", "m9", "web"), output,
                                 lambda: len(output.messages)) == "bot"
        await channel_context.store.request_handoff("c1", {"reason": "explicit_request"}, 3, "test")
        assert await turns.route(CustomerMessage("c1", "/handoff_resolved", "m5", "web"), output,
                                 lambda: len(output.messages)) == "human"
        inbox = await channel_context.store.read_messages("c1", INBOX)
    finally:
        await channel_context.store.close()
    assert [m.text for m in bot.received] == ["/deny", "handoff_resolved", 'inform{"lookup_failures": 0}', "deny"]
    assert [m.text for m in inbox] == ["/handoff_resolved"]


@pytest.mark.asyncio
async def test_redis_failing_on_the_way_is_a_refusal_the_customer_can_retry(redis_url: str) -> None:
    channel_context = context(redis_url)

    async def failing_turn(_: UserMessage) -> None:
        raise StoreUnavailable("redis went away")

    try:
        with pytest.raises(AgentsUnavailable) as refused:
            turns = CustomerTurns(channel_context.router, failing_turn, nothing_offered, channel_context.limits)
            await turns.route(CustomerMessage("c1", "hello", "m1", "web"), CollectingOutputChannel(), lambda: 0)
    finally:
        await channel_context.store.close()
    assert (refused.value.status, refused.value.error) == (503, AGENTS_UNAVAILABLE)


def test_chat_channels_apologise_in_the_same_words() -> None:
    assert apology(MessageRejected(413, "it is too long")) == "Sorry, that message was not sent: it is too long."
    assert apology(AgentsUnavailable()) == (
        "Sorry, live agents are unavailable right now; please try again shortly.")


@pytest.mark.asyncio
async def test_every_channel_serves_its_health_route(redis_url: str) -> None:
    slack = HandoffSlackInput(SlackConfig(bot_token="xoxb-t", signing_secret="sign-me", api_url="http://127.0.0.1:9/"),
                              context=context(redis_url))
    channels = {"handoff_rest": HandoffRestInput(context(redis_url)),
                "handoff_socketio": HandoffSocketIOInput(context=context(redis_url)), "handoff_slack": slack}
    async with serving(channels, EchoBot()) as base, aiohttp.ClientSession() as http:
        for name in channels:
            async with http.get(f"{base}/webhooks/{name}/") as reply:
                assert (reply.status, await reply.json()) == (200, {"status": "ok"})


@pytest.mark.asyncio
async def test_rest_channel_answers_messages_and_refusals(redis_url: str) -> None:
    rest, bot = HandoffRestInput(context(redis_url, max_message_bytes=4096)), EchoBot()
    async with serving({"handoff_rest": rest}, bot) as base, aiohttp.ClientSession(base) as http:
        async with http.post(f"{REST}/session") as reply:
            conversation_id = (await reply.json())["conversation_id"]
        async with http.post(f"{REST}/webhook", json={"sender": conversation_id, "message": "hi"}) as reply:
            assert reply.headers["X-Handoff-Route"] == "bot"
            assert [m["text"] for m in await reply.json()] == ["echo: hi"]
        refusals = [(b"{not json", 400, "the body must be JSON"), (b"[]", 400, "the body must be a JSON object"),
                    (b'{"sender": "alice", "message": "hi"}', 403,
                     "unknown conversation: get an id from POST /webhooks/handoff_rest/session"),
                    (f'{{"sender": "{conversation_id}", "message": " "}}'.encode(), 400,
                     "the message must be a non-empty string"),
                    (f'{{"sender": "{conversation_id}", "message": "{"x" * 4097}"}}'.encode(), 413,
                     "the message is 4097 bytes; at most 4096 bytes are accepted"),
                    (f'{{"sender": "{conversation_id}", "message": "hi", "metadata": {{"a": "{"x" * 300_000}"}}}}'
                     .encode(), 413, "the metadata is 300008 bytes of JSON; at most 2048 bytes are accepted"),
                    (f'{{"sender": "{conversation_id}", "message": "//"}}'.encode(), 400,
                     "the message must contain more than slashes")]
        for body, status, error in refusals:
            async with http.post(f"{REST}/webhook", data=body) as reply:
                assert (reply.status, await reply.json()) == (status, {"error": error})
        async with http.post(f"{REST}/webhook", json={"sender": conversation_id, "message": "/help"}) as reply:
            assert [m["text"] for m in await reply.json()] == ["echo: help"]
    assert [m.text for m in bot.received] == ["hi", "help"]


@pytest.mark.asyncio
async def test_rest_channel_hands_out_what_agents_sent(redis_url: str) -> None:
    rest = HandoffRestInput(context(redis_url))
    async with serving({"handoff_rest": rest}, EchoBot()) as base, aiohttp.ClientSession(base) as http:
        conversation_id = rest.context.session_ids.issue()
        await rest.context.store.append_message(conversation_id, OUTBOX, "a1", "alice", "Hi, Alice here.",
                                                extra={"agent_name": "Alice"})
        messages = f"{REST}/conversations/{conversation_id}/messages"
        async with http.get(messages) as reply:
            answer = await reply.json()
        assert [(m["text"], m["metadata"]["agent_name"]) for m in answer["messages"]] == [("Hi, Alice here.", "Alice")]
        async with http.get(messages, params={"after": answer["next"]}) as reply:
            assert await reply.json() == {"messages": [], "next": answer["next"]}
        for url, params, status, error in [
                (f"{REST}/conversations/alice/messages", {}, 403, "unknown conversation"),
                (messages, {"after": "latest"}, 400, "after must be a stream id such as 0-0"),
                (messages, {"wait": "soon"}, 400, "wait must be a number of seconds")]:
            async with http.get(url, params=params) as reply:
                assert (reply.status, await reply.json()) == (status, {"error": error})


@pytest.mark.asyncio
async def test_socketio_refuses_browsers_on_pages_that_are_not_the_shops(redis_url: str) -> None:
    channel = HandoffSocketIOInput(cors_allowed_origins=[], context=context(redis_url,
                                                                            shop_origins=["https://shop.example"]))
    async with serving({"handoff_socketio": channel}, EchoBot()) as base:
        for origin in ("https://attacker.example", "null", "https://shop.example.attacker.example", ""):
            assert await connect_reply(base, {"Origin": origin}) == (
                REFUSED, {"message": "this page's origin may not open the chat"}), origin
        for headers in ({"Origin": "https://shop.example"}, {}):
            packet, data = await connect_reply(base, headers)
            assert packet == CONNECTED and data["sid"], headers


@pytest.mark.asyncio
async def test_rest_channel_answers_a_flood_with_429_and_retry_after(redis_url: str) -> None:
    rest = HandoffRestInput(context(redis_url, conversation_message_limit={"count": 3, "seconds": 30},
                                    address_session_limit={"count": 2, "seconds": 60}))
    async with serving({"handoff_rest": rest}, EchoBot()) as base, aiohttp.ClientSession(base) as http:
        sessions = [await http.post(f"{REST}/session") for _ in range(3)]
        assert [reply.status for reply in sessions] == [200, 200, 429]
        assert sessions[2].headers["Retry-After"] == "30"
        assert await sessions[2].json() == {"error": "too many sessions; please wait 30 s and try again", "retry_after": 30}
        conversation_id = (await sessions[0].json())["conversation_id"]
        replies = []
        for number in range(5):
            async with http.post(f"{REST}/webhook", json={"sender": conversation_id, "message": f"m{number}"}) as reply:
                replies.append((reply.status, reply.headers.get("Retry-After"), await reply.json()))
        assert [status for status, _, _ in replies] == [200, 200, 200, 429, 429]
        assert replies[3][1:] == ("10", {"error": "too many messages; please wait 10 s and try again", "retry_after": 10})
        other = (await sessions[1].json())["conversation_id"]
        async with http.post(f"{REST}/webhook", json={"sender": other, "message": "hi"}) as reply:
            assert reply.status == 200  # one conversation's flood does not silence another


@pytest.mark.asyncio
async def test_rest_channel_counts_per_address_behind_a_trusted_proxy(redis_url: str) -> None:
    rest = HandoffRestInput(context(redis_url, address_session_limit={"count": 1, "seconds": 60},
                                    trusted_proxies=["127.0.0.1"]))
    async with serving({"handoff_rest": rest}, EchoBot()) as base, aiohttp.ClientSession(base) as http:
        statuses = []
        for forwarded in ("198.51.100.1", "198.51.100.2", "203.0.113.5, 198.51.100.1"):
            async with http.post(f"{REST}/session", headers={"X-Forwarded-For": forwarded}) as reply:
                statuses.append(reply.status)
        assert statuses == [200, 200, 429]  # the address the client wrote on the left is not believed


@pytest.mark.asyncio
async def test_rest_channel_caps_waiting_reads_per_address(redis_url: str) -> None:
    rest = HandoffRestInput(context(redis_url, long_polls_per_address=2))
    async with serving({"handoff_rest": rest}, EchoBot()) as base, aiohttp.ClientSession(base) as http:
        messages = f"{REST}/conversations/{rest.context.session_ids.issue()}/messages"
        waiting = [asyncio.create_task(http.get(messages, params={"wait": "1"})) for _ in range(2)]
        await asyncio.sleep(0.3)
        async with http.get(messages, params={"wait": "1"}) as refused:
            assert (refused.status, refused.headers["Retry-After"]) == (429, "1")
            assert await refused.json() == {"error": "too many waiting reads; please wait 1 s and try again", "retry_after": 1}
        async with http.get(messages) as not_waiting:
            assert not_waiting.status == 200  # a read that does not wait takes no slot
        assert [reply.status for reply in await asyncio.gather(*waiting)] == [200, 200]
        async with http.get(messages, params={"wait": "0.1"}) as again:
            assert again.status == 200


@pytest.mark.asyncio
async def test_socketio_answers_a_flood_with_an_error_event_and_a_system_message(redis_url: str) -> None:
    channel = HandoffSocketIOInput(context=context(redis_url, conversation_message_limit={"count": 2, "seconds": 20},
                                                   conversation_typing_limit={"count": 1, "seconds": 20}))
    async with serving({"handoff_socketio": channel}, EchoBot()) as base:
        customer = SocketCustomer(SimpleNamespace(rasa_url=base))  # type: ignore[arg-type]
        await customer.connect()
        try:
            for number in range(3):
                await customer.say(f"m{number}")
            seen = [await customer.next_event(timeout=10) for _ in range(4)]  # two echoes, the refusal twice
            assert ("handoff_error", {"error": "too many messages; please wait 10 s and try again", "status": 429,
                                      "retry_after": 10}) in seen
            assert ("bot_uttered", {"text": "Sorry, too many messages; please wait 10 s and try again.",
                                    "metadata": {"sender": "system", "kind": "error"}}) in seen
            for typing in (True, False, True):
                await customer.client.emit("user_typing", {"typing": typing})
            _, typing_error = await customer.next_event(timeout=10)
            assert (typing_error["status"], typing_error["retry_after"]) == (429, 20)
            with pytest.raises(TimeoutError):
                await customer.next_event(timeout=1)  # the later indicators are dropped quietly
        finally:
            # Without waiting for the polling read in flight (the server's stop ends it), which
            # would take the engine.io ping interval.
            await customer.client.eio.disconnect(abort=True)
