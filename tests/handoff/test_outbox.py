"""Outbox followers deliver agent messages in order, skip internal notes, and resume after a
reconnect right where the last delivery stopped."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from handoff.channels.outbox import OutboxFollowers
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

    followers = OutboxFollowers(store, "test", block_ms=200)
    followers.follow("c1", deliver)
    await store.append_message("c1", OUTBOX, "a1", "alice", "Hi, I'm Alice")
    await store.append_message("c1", OUTBOX, "a2", "alice", "customer seems upset", kind="note")
    await store.append_message("c1", OUTBOX, "a3", "alice", "<script>x</script>")
    await wait_for(lambda: len(delivered) == 2)
    await followers.stop_all()
    assert [m.text for m in delivered] == ["Hi, I'm Alice", "<script>x</script>"]


async def test_reconnect_resumes_after_the_last_delivered_message(store: HandoffStore) -> None:
    first: list[str] = []
    second: list[str] = []

    async def to_first(message: ChatMessage) -> None:
        first.append(message.text)

    async def to_second(message: ChatMessage) -> None:
        second.append(message.text)

    followers = OutboxFollowers(store, "test", block_ms=200)
    followers.follow("c1", to_first)
    await store.append_message("c1", OUTBOX, "a1", "alice", "one")
    await wait_for(lambda: first == ["one"])
    followers.stop("c1")  # the customer's socket closed; its read is still waiting
    await store.append_message("c1", OUTBOX, "a2", "alice", "two")
    await wait_for(lambda: not followers.is_following("c1"))
    await store.append_message("c1", OUTBOX, "a3", "alice", "three")
    other_process = OutboxFollowers(store, "test", block_ms=200)
    other_process.follow("c1", to_second)
    await wait_for(lambda: second == ["two", "three"])
    await other_process.stop_all()
    assert first == ["one"]
