"""Service-level routes: health, the API spec, login, presence, the agent list and the queue."""

from __future__ import annotations

import asyncio

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse, json, text

from handoff.agent_service.agents import AgentRegistry
from handoff.agent_service.auth import PUBLIC
from handoff.agent_service.errors import ApiError, json_body
from handoff.agent_service.views import queue_item
from handoff.models import AWAY, OFFLINE, ONLINE
from handoff.settings import HandoffSettings
from handoff.store import HandoffStore, StoreUnavailable


def blueprint() -> Blueprint:
    bp = Blueprint("agent_service")
    bp.add_route(health, "/health", methods=["GET"], ctx_auth=PUBLIC)
    bp.add_route(openapi, "/api/openapi.yaml", methods=["GET"], ctx_auth=PUBLIC)
    bp.add_route(login, "/api/login", methods=["POST"])
    bp.add_route(presence, "/api/presence", methods=["POST"])
    bp.add_route(agents, "/api/agents", methods=["GET"])
    bp.add_route(queue, "/api/queue", methods=["GET"])
    return bp


async def health(request: Request) -> HTTPResponse:
    """Up as long as the process answers; `redis` tells whether the store is reachable."""
    store: HandoffStore = request.app.ctx.store
    try:
        await store.ping()
    except StoreUnavailable:
        return json({"status": "ok", "redis": False})
    return json({"status": "ok", "redis": True})


async def openapi(request: Request) -> HTTPResponse:
    """The hand-written OpenAPI document (read once when the app is built)."""
    return text(request.app.ctx.openapi_yaml, content_type="application/yaml; charset=utf-8")


async def login(request: Request) -> HTTPResponse:
    """The authenticated agent, plus the limits the console should know."""
    settings: HandoffSettings = request.app.ctx.settings
    return json({**request.ctx.agent.public(), "max_concurrent_chats": settings.max_concurrent_chats,
                 "heartbeat_seconds": settings.agent_heartbeat_seconds})


async def presence(request: Request) -> HTTPResponse:
    """Heartbeat. An agent coming online moves conversations that waited for one into the queue."""
    settings: HandoffSettings = request.app.ctx.settings
    store: HandoffStore = request.app.ctx.store
    status = json_body(request).get("status")
    if status not in (ONLINE, AWAY, OFFLINE):
        raise ApiError(400, f"field 'status' must be one of {ONLINE}, {AWAY}, {OFFLINE}")
    agent_id = request.ctx.agent.id
    previous = await store.set_presence(agent_id, status, settings.agent_heartbeat_seconds)
    await request.app.ctx.care.publish_names([(agent_id, request.ctx.agent.name)])
    requeued = await store.requeue_offline() if status == ONLINE and previous != ONLINE else []
    return json({"agent_id": agent_id, "status": status, "previous": previous, "requeued": requeued,
                 "heartbeat_seconds": settings.agent_heartbeat_seconds})


async def agents(request: Request) -> HTTPResponse:
    """Every configured agent with presence and load, e.g. to pick a transfer target."""
    settings: HandoffSettings = request.app.ctx.settings
    store: HandoffStore = request.app.ctx.store
    registry: AgentRegistry = request.app.ctx.agents
    listed = list(registry)
    online = set(await store.online_agents())
    chats = await asyncio.gather(*(store.agent_chats(agent.id) for agent in listed))
    return json({"agents": [
        {**agent.public(), "online": agent.id in online, "active_chats": len(held),
         "max_concurrent_chats": settings.max_concurrent_chats}
        for agent, held in zip(listed, chats, strict=True)]})


async def queue(request: Request) -> HTTPResponse:
    store: HandoffStore = request.app.ctx.store
    return json({"queue": [queue_item(entry) for entry in await store.list_queue()]})
