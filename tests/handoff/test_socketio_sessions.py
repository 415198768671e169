"""A socket shows one conversation at a time: a new `session_request` leaves the previous one, so
its agent messages stop arriving there and its outbox is no longer followed by this process."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import socketio
from sanic import Sanic

from handoff.channels.socketio import CustomerSockets, HandoffSocketIOInput
from handoff.models import OUTBOX
from tests.handoff.test_channel_core import EchoBot, context, serving

pytestmark = pytest.mark.asyncio


@pytest.fixture(autouse=True)
def sanic_test_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Sanic, "test_mode", True)


class Widget:
    """One socket speaking the rasa-webchat protocol, collecting the texts shown on it."""

    def __init__(self) -> None:
        self.client = socketio.AsyncClient(reconnection=False)
        self.confirmed: asyncio.Queue[str] = asyncio.Queue()
        self.texts: asyncio.Queue[str] = asyncio.Queue()
        self.client.on("session_confirm", self.confirmed.put)
        self.client.on("bot_uttered", self._shown)

    async def _shown(self, data: Any) -> None:
        await self.texts.put(data.get("text", ""))

    async def session(self, session_id: str | None = None) -> str:
        await self.client.emit("session_request", {"session_id": session_id})
        return await asyncio.wait_for(self.confirmed.get(), 10)

    async def next_text(self, seconds: float) -> str | None:
        try:
            return await asyncio.wait_for(self.texts.get(), seconds)
        except asyncio.TimeoutError:
            return None


def customer_sockets(channel: HandoffSocketIOInput) -> CustomerSockets:
    assert channel.sio is not None
    return channel.sio.handlers["/"]["session_request"].__self__


async def until(condition: Any, what: str, seconds: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, what
        await asyncio.sleep(0.02)


async def test_a_new_session_request_leaves_the_previous_conversation(redis_url: str) -> None:
    channel = HandoffSocketIOInput(cors_allowed_origins=[], context=context(redis_url, customer_block_ms=5_000,
                                                                            outbox_readers=1))
    store = channel.context.store
    async with serving({"handoff_socketio": channel}, EchoBot()) as base:
        widget = Widget()
        await widget.client.connect(base, transports=["polling"], socketio_path="/socket.io")
        try:
            sockets = customer_sockets(channel)
            first = await widget.session()
            await store.append_message(first, OUTBOX, "a1", "alice", "for the first chat")
            assert await widget.next_text(10) == "for the first chat"

            earlier = [first]
            for _ in range(5):
                current = await widget.session()  # no id: a new conversation on the same socket
                assert current not in earlier
                await until(lambda: not any(sockets.outboxes.is_following(c) for c in earlier),
                            "a conversation the socket left is still followed")
                assert sockets.outboxes.is_following(current)
                earlier.append(current)

            await store.append_message(first, OUTBOX, "a2", "alice", "the first chat again")
            await store.append_message(current, OUTBOX, "b1", "bob", "for the current chat")
            assert await widget.next_text(10) == "for the current chat"
            assert await widget.next_text(1.0) is None  # the first chat's message never came

            assert await widget.session(current) == current  # asking for the same one again keeps it
            assert sockets.outboxes.is_following(current)
        finally:
            await widget.client.eio.disconnect(abort=True)  # without waiting out the pending poll
