"""Bearer-token authentication for every route, as one request middleware.

Routes are private unless marked: `ctx_auth=PUBLIC` (health, the API spec) or `ctx_auth=QUERY`
(the WebSocket, since browsers cannot set headers on one: `?token=` is accepted there too).
A route that forgets to say anything therefore requires the `Authorization: Bearer` header.
"""

from __future__ import annotations

from sanic.request import Request
from sanic.response import HTTPResponse

from handoff.agent_service.agents import AgentRegistry
from handoff.agent_service.errors import error_response

PUBLIC = "public"
QUERY = "query"


def bearer_token(request: Request) -> str | None:
    scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
    return (token.strip() or None) if scheme.lower() == "bearer" else None


async def authenticate(request: Request) -> HTTPResponse | None:
    """Sets `request.ctx.agent`, or answers 401 before the handler (or WebSocket handshake) runs.
    Without a route (Sanic answering 404/405) there is nothing to protect."""
    if request.route is None:
        return None
    mode = getattr(request.route.ctx, "auth", None)
    if mode == PUBLIC:
        return None
    token = bearer_token(request)
    if token is None and mode == QUERY:
        token = request.args.get("token")
    registry: AgentRegistry = request.app.ctx.agents
    agent = registry.authenticate(token)
    if agent is None:
        reason = "wrong token" if token else "missing token"
        return error_response(401, f"authentication required ({reason}): "
                                   "send 'Authorization: Bearer <token>'")
    request.ctx.agent = agent
    return None
