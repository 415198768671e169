"""The outbox reader delivers agent messages in order, skips internal notes, resumes after a
reconnect right where the last delivery stopped, and reads every conversation of its process with
one blocking read."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable

import pytest
from redis.asyncio import Redis

from handoff.channels.outbox import OutboxReader, OutboxReaders
from handoff.models import OUTBOX, ChatMessage
from handoff.store import HandoffStore

pytestmark = pytest.mark.asyncio


async def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise TimeoutError("condition not met in time")
        await asyncio.sleep(0.01)


async def test_delivers_in_order_and_skips_notes(store: HandoffStore) -> None:
    delivered: list[ChatMessage] = []

    async def deliver(message: ChatMessage) -> None:
        delivered.append(message)

    reader = OutboxReader(store, "test", block_ms=200)
    reader.follow("c1", deliver)
    await store.append_message("c1", OUTBOX, "a1", "alice", "Hi, I'm Alice")
    await store.append_message("c1", OUTBOX, "a2", "alice", "customer seems upset", kind="note")
    await store.append_message("c1", OUTBOX, "a3", "alice", "<script>x</script>")
    await wait_for(lambda: len(delivered) == 2)
    await reader.stop_all()
    assert [m.text for m in delivered] == ["Hi, I'm Alice", "<script>x</script>"]


async def test_reconnect_resumes_after_the_last_delivered_message(store: HandoffStore) -> None:
    first: list[str] = []
    second: list[str] = []

    async def to_first(message: ChatMessage) -> None:
        first.append(message.text)

    async def to_second(message: ChatMessage) -> None:
        second.append(message.text)

    reader = OutboxReader(store, "test", block_ms=200)
    reader.follow("c1", to_first)
    await store.append_message("c1", OUTBOX, "a1", "alice", "one")
    await wait_for(lambda: first == ["one"])
    reader.stop("c1")  # the customer's socket closed; its read is still waiting
    await store.append_message("c1", OUTBOX, "a2", "alice", "two")
    await wait_for(lambda: not reader.is_following("c1"))
    await store.append_message("c1", OUTBOX, "a3", "alice", "three")
    other_process = OutboxReader(store, "test", block_ms=200)
    other_process.follow("c1", to_second)
    await wait_for(lambda: second == ["two", "three"])
    await other_process.stop_all()
    assert first == ["one"]


class Received:
    """What a reader delivered, texts by conversation."""

    def __init__(self) -> None:
        self.texts: defaultdict[str, list[str]] = defaultdict(list)

    async def deliver(self, message: ChatMessage) -> None:
        self.texts[message.conversation_id].append(message.text)

    def count(self) -> int:
        return sum(map(len, self.texts.values()))


async def blocked_clients(redis: Redis) -> int:
    return int((await redis.info("clients"))["blocked_clients"])


async def test_one_blocking_read_serves_every_conversation(store: HandoffStore, raw_redis: Redis) -> None:
    received = Received()
    blocked_before = await blocked_clients(raw_redis)
    reader = OutboxReader(store, "test", block_ms=20_000)
    conversations = [f"c{number}" for number in range(30)]
    for conversation_id in conversations:
        reader.follow(conversation_id, received.deliver)
    for conversation_id in conversations:
        await store.append_message(conversation_id, OUTBOX, f"{conversation_id}-1", "alice", f"hi {conversation_id}")
    await wait_for(lambda: received.count() == len(conversations))
    await asyncio.sleep(0.05)  # the reader is back in its read
    assert await blocked_clients(raw_redis) == blocked_before + 1
    await reader.stop_all()
    assert received.texts == {c: [f"hi {c}"] for c in conversations}


async def test_a_conversation_followed_during_a_read_is_read_at_once(store: HandoffStore) -> None:
    received = Received()
    reader = OutboxReader(store, "test", block_ms=20_000)
    reader.follow("c1", received.deliver)
    await asyncio.sleep(0.1)  # the reader now waits on c1 alone, for up to 20 s
    await store.append_message("c2", OUTBOX, "a1", "alice", "sent before the customer connected")
    reader.follow("c2", received.deliver)
    await wait_for(lambda: received.texts["c2"] == ["sent before the customer connected"], timeout=2.0)
    await reader.stop_all()


async def test_a_failed_delivery_is_retried_in_order_without_holding_up_others(store: HandoffStore) -> None:
    texts: dict[str, list[str]] = {"c1": [], "c2": []}
    failures = iter([True])

    async def deliver(message: ChatMessage) -> None:
        if message.conversation_id == "c1" and next(failures, False):
            raise RuntimeError("socket.io refused the emit")
        texts[message.conversation_id].append(message.text)

    reader = OutboxReader(store, "test", block_ms=20_000)
    reader.follow("c1", deliver)
    reader.follow("c2", deliver)
    await asyncio.sleep(0.1)
    await store.append_message("c1", OUTBOX, "a1", "alice", "one")
    await store.append_message("c1", OUTBOX, "a2", "alice", "two")
    await store.append_message("c2", OUTBOX, "b1", "bob", "other")
    await wait_for(lambda: texts["c2"] == ["other"], timeout=0.9)  # before c1's retry is due
    await wait_for(lambda: texts["c1"] == ["one", "two"], timeout=5.0)
    await reader.stop_all()


async def test_cursors_of_delivered_messages_are_saved(store: HandoffStore) -> None:
    received = Received()
    reader = OutboxReader(store, "test", block_ms=20_000)
    reader.follow("c1", received.deliver)
    await asyncio.sleep(0.1)
    last = await store.append_message("c1", OUTBOX, "a1", "alice", "one")
    await wait_for(lambda: received.texts["c1"] == ["one"])
    await reader.stop_all()
    assert await store.get_cursor("c1", "test") == last.stream_id


async def test_readers_share_the_conversations_with_a_bounded_number_of_reads(
        store: HandoffStore, raw_redis: Redis) -> None:
    received = Received()
    blocked_before = await blocked_clients(raw_redis)
    readers = OutboxReaders(store, "test", block_ms=20_000, count=4)
    conversations = [f"c{number}" for number in range(30)]
    for conversation_id in conversations:
        readers.follow(conversation_id, received.deliver)
    await asyncio.sleep(0.1)
    for conversation_id in conversations:
        await store.append_message(conversation_id, OUTBOX, f"{conversation_id}-1", "alice", f"hi {conversation_id}")
    await wait_for(lambda: received.count() == len(conversations))
    await asyncio.sleep(0.05)
    assert 1 < await blocked_clients(raw_redis) - blocked_before <= 4
    readers.stop("c1")
    await store.append_message("c1", OUTBOX, "c1-2", "alice", "after the customer left")
    await wait_for(lambda: not readers.is_following("c1"))
    await readers.stop_all()
    assert received.texts == {c: [f"hi {c}"] for c in conversations}
