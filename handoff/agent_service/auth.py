"""Bearer-token authentication for every route, as one request middleware.

Routes are private unless marked: `ctx_auth=PUBLIC` (health, the API spec), `ctx_auth=QUERY`
(the WebSocket, since browsers cannot set headers on one: `?token=` is accepted there too) or
`ctx_auth=METRICS` (`/metrics`, which takes the `metrics_token` setting's token as well, so
Prometheus needs no agent's).
A route that forgets to say anything therefore requires the `Authorization: Bearer` header.
"""

from __future__ import annotations

from sanic.request import Request
from sanic.response import HTTPResponse

from handoff.agent_service.agents import AgentRegistry
from handoff.agent_service.errors import error_response
from handoff.metrics.exposition import is_metrics_token

PUBLIC = "public"
QUERY = "query"
METRICS = "metrics"


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
    if mode == METRICS and is_metrics_token(token, request.app.ctx.settings.metrics_token):
        return None
    registry: AgentRegistry = request.app.ctx.agents
    agent = registry.authenticate(token)
    if agent is None:
        reason = "wrong token" if token else "missing token"
        return error_response(401, f"authentication required ({reason}): "
                                   "send 'Authorization: Bearer <token>'")
    request.ctx.agent = agent
    return None
