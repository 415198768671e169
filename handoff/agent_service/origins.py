"""Which web pages may open the console's WebSocket.

Browsers let any page open a WebSocket to any host, so a page the agent happens to visit could talk
to the service as them if it got hold of a token. Browsers always send the page's origin in the
handshake's `Origin` header; a handshake whose Origin is not one of `console_origins` (by default
the service's own, from `agent_service_url`) is refused with 403 before the connection opens, so
not one frame is sent. A handshake without Origin does not come from a browser page: such a client
could send any Origin it liked, so refusing it would protect nothing; it goes on to the token check.
"""

from __future__ import annotations

from sanic.request import Request
from sanic.response import HTTPResponse

from handoff.agent_service.errors import error_response
from handoff.settings import HandoffSettings
from handoff.web_origins import allowed_origins, normalise_origin


def console_origins(settings: HandoffSettings) -> frozenset[str]:
    """The origins allowed to open the console WebSocket; OriginsSettingError names a bad entry."""
    return allowed_origins(settings.console_origins, settings.agent_service_url, "console_origins",
                           "agent_service_url")


async def check_socket_origin(request: Request) -> HTTPResponse | None:
    """Refuses (403) a WebSocket handshake from a page of a foreign origin; other requests pass."""
    if request.route is None or not getattr(request.route.ctx, "websocket", False):
        return None
    origin = request.headers.get("origin")
    if origin is None or normalise_origin(origin) in request.app.ctx.console_origins:
        return None
    return error_response(403, f"a page from {origin} may not open the console WebSocket; "
                               "allowed origins are set by console_origins")
