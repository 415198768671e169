"""`GET /api/ws?token=<token>`: the console's live channel (protocol in `hub.py`).

The connection is registered with the hub BEFORE the hello is read from Redis, so nothing that
happens while the hello is assembled is missed (at worst it arrives twice); the hello itself is
sent before any queued push.
"""

from __future__ import annotations

import asyncio
import json
import logging

from sanic import Blueprint
from sanic.exceptions import WebsocketClosed
from sanic.request import Request
from sanic.server.websockets.impl import WebsocketImplProtocol
from websockets.exceptions import ConnectionClosed

from handoff.agent_service.auth import QUERY
from handoff.agent_service.hub import Connection, Hub
from handoff.store import StoreUnavailable

logger = logging.getLogger(__name__)


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
            await _read(ws, connection)
        finally:
            # Also runs when Sanic cancels this handler (client gone, server stopping), so the
            # pump never outlives its socket.
            pump.cancel()
            (outcome,) = await asyncio.gather(pump, return_exceptions=True)
            if isinstance(outcome, Exception) and not _closed(outcome):
                logger.error("console socket of %s failed", connection.agent.id, exc_info=outcome)
    finally:
        hub.remove(connection)


def _closed(exc: BaseException | None) -> bool:
    return isinstance(exc, (ConnectionClosed, WebsocketClosed))


async def _read(ws: WebsocketImplProtocol, connection: Connection) -> None:
    """Answers pings; ends when the console goes away (or the pump closed a console too slow)."""
    try:
        await _answer(ws, connection)
    except (ConnectionClosed, WebsocketClosed):
        return


async def _answer(ws: WebsocketImplProtocol, connection: Connection) -> None:
    while (raw := await ws.recv()) is not None:
        try:
            message = json.loads(raw)
        except ValueError:
            connection.push({"type": "error", "error": "messages must be JSON"})
            continue
        if isinstance(message, dict) and message.get("type") == "ping":
            connection.push({"type": "pong"})
        else:
            connection.push({"type": "error",
                             "error": 'unknown message; the console may send {"type": "ping"}'})
