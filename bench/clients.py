"""Thin clients the benchmarks drive the system with, timing every arrival with `time.perf_counter`.

- `WebchatSocket`: a website widget (rasa-webchat protocol) speaking socket.io over a WebSocket,
  as a browser does once connected. Written on `websockets` because python-engineio's WebSocket
  client needs a newer aiohttp than Rasa 3.6 pins, and its long-polling transport would add its
  own delays to every figure.
- `AgentConsole`: the agent service's console WebSocket (`/api/ws?token=`).

Not a script; the benchmarks import it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import websockets
from websockets.client import WebSocketClientProtocol

# Called with (event name, data, perf_counter at arrival) for every socket.io event received.
EventHandler = Callable[[str, Any, float], None]


def websocket_url(http_url: str, path: str) -> str:
    return http_url.replace("http://", "ws://", 1).rstrip("/") + path


class WebchatSocket:
    """One customer's socket.io connection (Engine.IO 4 over WebSocket, default namespace).

    Events arrive on `events` unless `on_event` is given, which is then called instead (from the
    reader task, so it must not block)."""

    def __init__(self, rasa_url: str, socketio_path: str = "/socket.io",
                 on_event: EventHandler | None = None) -> None:
        path = "/" + socketio_path.strip("/") + "/?EIO=4&transport=websocket"
        self.url = websocket_url(rasa_url, path)
        self.on_event = on_event
        self.events: asyncio.Queue[tuple[str, Any, float]] = asyncio.Queue()
        self.session_id: str | None = None
        self.closed_by_server: str | None = None  # why the connection ended, if not by close()
        self._ws: WebSocketClientProtocol | None = None
        self._reader: asyncio.Task | None = None
        self._connected: asyncio.Future[None] | None = None

    async def connect(self, timeout: float = 10.0) -> None:
        self._ws = await websockets.connect(self.url, ping_interval=None, max_size=2**22, open_timeout=timeout)
        opening = await asyncio.wait_for(self._ws.recv(), timeout)
        if not str(opening).startswith("0"):
            raise ConnectionError(f"unexpected Engine.IO opening packet {opening!r}")
        self._connected = asyncio.get_running_loop().create_future()
        self._reader = asyncio.create_task(self._read())
        await self._ws.send("40")
        await asyncio.wait_for(self._connected, timeout)

    async def _read(self) -> None:
        assert self._ws is not None and self._connected is not None
        with contextlib.suppress(websockets.ConnectionClosed):
            async for packet in self._ws:
                arrived = time.perf_counter()
                if packet == "2":  # Engine.IO ping; the server drops clients that do not answer
                    await self._ws.send("3")
                elif packet.startswith("40") and not self._connected.done():
                    self._connected.set_result(None)
                elif packet.startswith("44") and not self._connected.done():
                    self._connected.set_exception(ConnectionError(f"socket.io connect refused: {packet}"))
                elif packet.startswith("42"):
                    event, *rest = json.loads(packet[2:])
                    self._handle(event, rest[0] if rest else None, arrived)
                elif packet in ("1", "41"):
                    self.closed_by_server = f"{packet!r} packet"
        if self.closed_by_server is None and self._ws.close_code not in (None, 1000):
            self.closed_by_server = f"close code {self._ws.close_code}"

    def _handle(self, event: str, data: Any, arrived: float) -> None:
        if self.on_event is not None:
            self.on_event(event, data, arrived)
        else:
            self.events.put_nowait((event, data, arrived))

    async def emit(self, event: str, data: Any) -> None:
        assert self._ws is not None, "connect first"
        await self._ws.send("42" + json.dumps([event, data], separators=(",", ":")))

    async def next_event(self, wanted: str, timeout: float) -> tuple[Any, float]:
        """Data and arrival time of the next `wanted` event (others are skipped); TimeoutError."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            event, data, arrived = await asyncio.wait_for(self.events.get(), max(0.0, deadline - loop.time()))
            if event == wanted:
                return data, arrived

    async def request_session(self, session_id: str | None = None, timeout: float = 10.0) -> str:
        """session_request -> session_confirm; works only while events go to `events`."""
        await self.emit("session_request", {"session_id": session_id})
        data, _ = await self.next_event("session_confirm", timeout)
        self.session_id = str(data)
        return self.session_id

    async def say(self, text: str, message_id: str | None = None) -> float:
        """Emits `user_uttered`; returns perf_counter just before the frame was written."""
        payload: dict[str, Any] = {"message": text, "session_id": self.session_id}
        if message_id is not None:
            payload["message_id"] = message_id
        sent = time.perf_counter()
        await self.emit("user_uttered", payload)
        return sent

    async def close(self) -> None:
        if self._ws is not None:
            with contextlib.suppress(websockets.ConnectionClosed):
                await self._ws.send("41")
            await self._ws.close()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)


class AgentConsole:
    """An agent's console WebSocket; pushes go to `on_push(message, arrival perf_counter)`."""

    def __init__(self, agent_url: str, token: str, on_push: Callable[[dict[str, Any], float], None]) -> None:
        self.url = websocket_url(agent_url, f"/api/ws?token={quote(token)}")
        self.on_push = on_push
        self.hello: dict[str, Any] = {}
        self.close_code: int | None = None  # set when the server closed the socket
        self._ws: WebSocketClientProtocol | None = None
        self._reader: asyncio.Task | None = None

    async def connect(self, timeout: float = 10.0) -> dict[str, Any]:
        """Opens the socket and returns the `hello` push."""
        self._ws = await websockets.connect(self.url, max_size=2**24, open_timeout=timeout)
        self.hello = json.loads(await asyncio.wait_for(self._ws.recv(), timeout))
        if self.hello.get("type") != "hello":
            raise ConnectionError(f"expected a hello push, got {self.hello}")
        self._reader = asyncio.create_task(self._read())
        return self.hello

    async def send(self, payload: dict[str, Any]) -> None:
        """Sends one console message (e.g. `{"type": "send", ...}`, acknowledged by a push)."""
        assert self._ws is not None
        await self._ws.send(json.dumps(payload))

    async def _read(self) -> None:
        assert self._ws is not None
        with contextlib.suppress(websockets.ConnectionClosed):
            async for raw in self._ws:
                self.on_push(json.loads(raw), time.perf_counter())
        self.close_code = self._ws.close_code

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)
