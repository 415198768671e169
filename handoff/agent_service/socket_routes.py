"""`GET /api/ws?token=<token>`: the console's live channel (protocol in `hub.py`).

The connection is registered with the hub BEFORE the hello is read from Redis, so nothing that
happens while the hello is assembled is missed (at worst it arrives twice); the hello itself is
sent before any queued push.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from sanic import Blueprint
from sanic.exceptions import WebsocketClosed
from sanic.request import Request
from sanic.server.websockets.impl import WebsocketImplProtocol
from websockets.exceptions import ConnectionClosed

from handoff.agent_service.auth import QUERY
from handoff.agent_service.errors import STORE_UNAVAILABLE, ApiError
from handoff.agent_service.hub import Connection, Hub
from handoff.agent_service.message_routes import send_agent_message
from handoff.store import StoreUnavailable
from handoff.task_stop import cancel_and_wait

logger = logging.getLogger(__name__)

MAX_SENDS_IN_FLIGHT = 64


def blueprint() -> Blueprint:
    bp = Blueprint("agent_socket")
    bp.add_websocket_route(agent_socket, "/api/ws", ctx_auth=QUERY)
    return bp


async def agent_socket(request: Request, ws: WebsocketImplProtocol) -> None:
    hub: Hub = request.app.ctx.hub
    connection = Connection(request.ctx.agent, ws)
    hub.add(connection)
    try:
        try:
            hello = await hub.hello(connection.agent)
        except StoreUnavailable:
            await ws.send(json.dumps({"type": "error", "error": "the handoff store (Redis) is unavailable"}))
            await ws.close(code=1011, reason="redis unavailable; reconnect later")
            return
        await ws.send(json.dumps(hello))
        pump = asyncio.create_task(connection.pump())
        try:
            await _read(request, ws, connection)
        finally:
            # Also runs when Sanic cancels this handler (client gone, server stopping), so the
            # pump never outlives its socket.
            (outcome,) = await cancel_and_wait([pump])
            if isinstance(outcome, Exception) and not _closed(outcome):
                logger.error("console socket of %s failed", connection.agent.id, exc_info=outcome)
    finally:
        hub.remove(connection)


def _closed(exc: BaseException | None) -> bool:
    return isinstance(exc, (ConnectionClosed, WebsocketClosed))


async def _read(request: Request, ws: WebsocketImplProtocol, connection: Connection) -> None:
    """Answers pings and sends; ends when the console goes away (or the pump closed a console too slow)."""
    try:
        await _answer(request, ws, connection)
    except (ConnectionClosed, WebsocketClosed):
        return


class InOrderSends:
    """Stores a console's sends concurrently, so they share Redis round trips, yet started in the
    order they arrived (the order the store queues them in); at most `limit` at a time, so a
    flooding console waits for its own acknowledgements."""

    def __init__(self, send: Callable[[dict[str, Any]], Awaitable[None]], limit: int = MAX_SENDS_IN_FLIGHT) -> None:
        self._send = send
        self._slots = asyncio.Semaphore(limit)
        self._tasks: set[asyncio.Task] = set()

    async def start(self, message: dict[str, Any]) -> None:
        await self._slots.acquire()
        task = asyncio.create_task(self._run(message))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, message: dict[str, Any]) -> None:
        try:
            await self._send(message)
        finally:
            self._slots.release()

    async def finish(self) -> None:
        await asyncio.gather(*self._tasks, return_exceptions=True)


async def _answer(request: Request, ws: WebsocketImplProtocol, connection: Connection) -> None:
    sends = InOrderSends(lambda message: _send(request, connection, message))
    try:
        await _answer_frames(ws, connection, sends)
    finally:
        await sends.finish()


async def _answer_frames(ws: WebsocketImplProtocol, connection: Connection, sends: InOrderSends) -> None:
    while (raw := await ws.recv()) is not None:
        try:
            message = json.loads(raw)
        except ValueError:
            connection.push({"type": "error", "error": "messages must be JSON"})
            continue
        if isinstance(message, dict) and message.get("type") == "ping":
            connection.push({"type": "pong"})
        elif isinstance(message, dict) and message.get("type") == "send":
            await sends.start(message)
        else:
            connection.push({"type": "error",
                             "error": 'unknown message; the console may send {"type": "ping"} or {"type": "send"}'})


async def _send(request: Request, connection: Connection, message: dict[str, Any]) -> None:
    """`send` {conversation_id, id, text, kind?}: like POST .../messages, acknowledged with `sent`
    {id, conversation_id, kind, stream_id, duplicate} once stored, or `error` {id, status, error}."""
    conversation_id = message.get("conversation_id")
    try:
        if not isinstance(conversation_id, str) or not conversation_id:
            raise ApiError(400, "field 'conversation_id' is required")
        sent = await send_agent_message(request.app.ctx.store, request.app.ctx.settings, connection.agent,
                                        conversation_id, message)
    except ApiError as refused:
        connection.push({"type": "error", "id": message.get("id"), "status": refused.status, "error": refused.message})
    except StoreUnavailable:
        connection.push({"type": "error", "id": message.get("id"), "status": 503,
                         "error": STORE_UNAVAILABLE})
    else:
        connection.push({"type": "sent", **sent})
