"""A customer on the website widget: a python-socketio client speaking the rasa-webchat protocol."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import socketio

from rasa_bot.system import SystemLayout

# engine.io's disconnect waits for the client's read loop, which ends only when the server answers
# the long poll in flight; after a Redis outage that answer did not come, and a test hung at its end.
CLOSE_WAIT_SECONDS = 10.0


class SocketCustomer:
    """Connects like rasa-webchat (session_request -> session_confirm) and collects what arrives."""

    def __init__(self, layout: SystemLayout) -> None:
        self.url = layout.rasa_url
        self.client = socketio.AsyncClient(reconnection=False)
        self.conversation_id: str | None = None
        self.received: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        for event in ("session_confirm", "bot_uttered", "agent_typing", "handoff_error", "handoff_status",
                      "satisfaction_saved", "bot_feedback_offer", "bot_feedback_saved"):
            self.client.on(event, self._collector(event))

    def _collector(self, event: str) -> Callable[[Any], Awaitable[None]]:
        async def collect(data: Any = None) -> None:
            await self.received.put((event, data))
        return collect

    async def connect(self, session_id: str | None = None, origin: str | None = None) -> str:
        """Opens the socket and asks for a session (resuming `session_id` if given), sending
        `origin` in the Origin header as a browser on that page would.

        Long-polling transport: the engine.io client's WebSocket transport needs a newer aiohttp
        than the one Rasa 3.6 pins. The server side is the same for both transports."""
        await self.client.connect(self.url, headers={"Origin": origin} if origin else {}, transports=["polling"],
                                  socketio_path="/socket.io")
        await self.client.emit("session_request", {"session_id": session_id})
        _, data = await self.next_event("session_confirm")
        self.conversation_id = data
        return data

    async def say(self, text: str, message_id: str | None = None, metadata: object = None) -> None:
        payload: dict[str, Any] = {"message": text, "session_id": self.conversation_id}
        if message_id:
            payload["message_id"] = message_id
        if metadata is not None:
            payload["metadata"] = metadata
        await self.client.emit("user_uttered", payload)

    async def next_event(self, wanted: str | None = None, timeout: float = 30.0) -> tuple[str, Any]:
        """The next event (of kind `wanted`, skipping others); TimeoutError if none arrives."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            try:
                event, data = await asyncio.wait_for(self.received.get(), max(0.0, deadline - loop.time()))
            except asyncio.TimeoutError as timed_out:
                raise TimeoutError(f"no {wanted or 'event'} within {timeout} s") from timed_out
            if wanted is None or event == wanted:
                return event, data

    async def texts(self, count: int, timeout: float = 30.0) -> list[str]:
        """The texts of the next `count` messages shown to the customer."""
        return [(await self.next_event("bot_uttered", timeout))[1].get("text", "") for _ in range(count)]

    async def nothing_arrives(self, seconds: float) -> bool:
        """True if no message reaches the customer within `seconds`."""
        try:
            await self.next_event("bot_uttered", timeout=seconds)
        except TimeoutError:
            return True
        return False

    async def close(self) -> None:
        """Disconnects; a long poll the server still holds is given up after CLOSE_WAIT_SECONDS."""
        try:
            await asyncio.wait_for(self.client.disconnect(), CLOSE_WAIT_SECONDS)
        except asyncio.TimeoutError:
            pass  # the close packet was sent; only the wait for the open long poll was cut short
