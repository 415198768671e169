"""`/metrics` at the root of each Rasa process that serves the handoff channels.

Rasa mounts every channel's blueprint under `/webhooks/<channel>/`, so the route is added to the
app itself when a channel's blueprint is registered (as Rasa's own socket.io blueprint attaches
its server), once per app however many channels there are. It answers only a request with the
`metrics_token` setting as its bearer token (`handoff/metrics/exposition.py`).
"""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Sanic
from sanic.request import Request
from sanic.response import HTTPResponse

from handoff.agent_service.auth import bearer_token
from handoff.metrics.channel_metrics import REGISTRY
from handoff.metrics.exposition import METRICS_PATH, is_metrics_token, metrics_response, unauthorized

ROUTE_NAME = "handoff_metrics"


async def serve_metrics(request: Request) -> HTTPResponse:
    token = bearer_token(request)
    if not is_metrics_token(token, request.app.ctx.handoff_metrics_token):
        return unauthorized(token)
    return metrics_response(REGISTRY)


class ServesMetrics(Blueprint):
    """A channel blueprint that also adds `/metrics` to the app it is registered with; its
    `ctx.metrics_token` is the credential."""

    def register(self, app: Sanic, options: dict[str, Any]) -> None:
        super().register(app, options)
        if getattr(app.ctx, "handoff_metrics_token", None) is None:
            app.ctx.handoff_metrics_token = getattr(self.ctx, "metrics_token", "")
            app.add_route(serve_metrics, METRICS_PATH, methods=["GET"], name=ROUTE_NAME)
