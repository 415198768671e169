"""Which web pages may open the console's WebSocket.

Browsers let any page open a WebSocket to any host, so a page the agent happens to visit could talk
to the service as them if it got hold of a token. Browsers always send the page's origin in the
handshake's `Origin` header; a handshake whose Origin is not one of `console_origins` (by default
the service's own, from `agent_service_url`) is refused with 403 before the connection opens, so
not one frame is sent. A handshake without Origin does not come from a browser page: such a client
could send any Origin it liked, so refusing it would protect nothing; it goes on to the token check.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from sanic.request import Request
from sanic.response import HTTPResponse

from handoff.agent_service.errors import error_response
from handoff.settings import HandoffSettings

DEFAULT_PORTS = {"http": 80, "https": 443}


class OriginsSettingError(ValueError):
    """`console_origins` (or `agent_service_url`) holds something that is not an origin."""


def normalise_origin(value: str) -> str | None:
    """`scheme://host[:port]` as browsers write an origin (lower case, default port left out); None
    for what is not an http(s) origin, such as the opaque origin `null` of a sandboxed page."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), parts.hostname
    if scheme not in DEFAULT_PORTS or not host:
        return None
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}" if port in (None, DEFAULT_PORTS[scheme]) else f"{scheme}://{host}:{port}"


def console_origins(settings: HandoffSettings) -> frozenset[str]:
    """The origins allowed to open the console WebSocket; OriginsSettingError names a bad entry."""
    configured = settings.console_origins
    allowed = set()
    for value in configured if configured is not None else [settings.agent_service_url]:
        origin = normalise_origin(value)
        if origin is None:
            setting = "console_origins" if configured is not None else "agent_service_url"
            raise OriginsSettingError(f"{setting}: {value!r} is not an origin like https://agents.example.com")
        allowed.add(origin)
    return frozenset(allowed)


async def check_socket_origin(request: Request) -> HTTPResponse | None:
    """Refuses (403) a WebSocket handshake from a page of a foreign origin; other requests pass."""
    if request.route is None or not getattr(request.route.ctx, "websocket", False):
        return None
    origin = request.headers.get("origin")
    if origin is None or normalise_origin(origin) in request.app.ctx.console_origins:
        return None
    return error_response(403, f"a page from {origin} may not open the console WebSocket; "
                               "allowed origins are set by console_origins")
