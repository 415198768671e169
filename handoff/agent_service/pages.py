"""The web pages the agent service serves: the agent console (`/console`) and the demo shop page
with the chat widget (`/shop`), their scripts and styles, and the pinned socket.io browser client
from `node_modules` (no build step). Pages are public; everything they load from the API needs the
agent's token.

Each page gets a Content-Security-Policy that allows only our own scripts and styles and, for
connections, this service and the chat server, so even a slip in escaping runs no injected code.
"""

from __future__ import annotations

import html
from pathlib import Path
from urllib.parse import urlparse

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse, raw, redirect

from handoff.agent_service.auth import PUBLIC
from handoff.agent_service.errors import ApiError
from handoff.settings import HandoffSettings

STATIC_DIR = Path(__file__).with_name("static")
CONTENT_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                 ".css": "text/css; charset=utf-8"}
ASSETS = frozenset({"console.js", "console.css", "widget.js", "widget.css", "shop.css"})
CHAT_SERVER_PLACEHOLDER = "{{CHAT_SERVER}}"


def blueprint() -> Blueprint:
    bp = Blueprint("pages")
    bp.add_route(home, "/", methods=["GET"], ctx_auth=PUBLIC)
    bp.add_route(console, "/console", methods=["GET"], ctx_auth=PUBLIC)
    bp.add_route(shop, "/shop", methods=["GET"], ctx_auth=PUBLIC)
    bp.add_route(asset, "/static/<name:str>", methods=["GET"], ctx_auth=PUBLIC)
    bp.add_route(socketio_client, "/vendor/socket.io.min.js", methods=["GET"], ctx_auth=PUBLIC)
    return bp


def chat_server_url(settings: HandoffSettings) -> str:
    return (settings.widget_socket_url or settings.rasa_url).rstrip("/")


def _origins(url: str) -> str:
    """The HTTP and WebSocket origins of `url`, as CSP sources."""
    parsed = urlparse(url)
    secure = parsed.scheme == "https"
    return f"{parsed.scheme}://{parsed.netloc} {'wss' if secure else 'ws'}://{parsed.netloc}"


def security_headers(request: Request) -> dict[str, str]:
    settings: HandoffSettings = request.app.ctx.settings
    connect = f"'self' {_origins(f'{request.scheme}://{request.host}')} {_origins(chat_server_url(settings))}"
    policy = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
              f"connect-src {connect}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
    return {"Content-Security-Policy": policy, "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer", "Cache-Control": "no-cache"}


def _file(request: Request, path: Path, body: bytes | None = None) -> HTTPResponse:
    return raw(body if body is not None else path.read_bytes(), content_type=CONTENT_TYPES[path.suffix],
               headers=security_headers(request))


async def home(_request: Request) -> HTTPResponse:
    return redirect("/console")


async def console(request: Request) -> HTTPResponse:
    return _file(request, STATIC_DIR / "console.html")


async def shop(request: Request) -> HTTPResponse:
    """The shop page, told where the chat server is (escaped into a meta tag)."""
    page = STATIC_DIR / "shop.html"
    url = html.escape(chat_server_url(request.app.ctx.settings), quote=True)
    return _file(request, page, page.read_text(encoding="utf-8").replace(CHAT_SERVER_PLACEHOLDER, url).encode())


async def asset(request: Request, name: str) -> HTTPResponse:
    if name not in ASSETS:
        raise ApiError(404, f"no such file: {name}")
    return _file(request, STATIC_DIR / name)


async def socketio_client(request: Request) -> HTTPResponse:
    settings: HandoffSettings = request.app.ctx.settings
    path = settings.socketio_client_file
    if not path.is_file():
        raise ApiError(503, f"the socket.io browser client is missing ({path}); run `make setup` (npm ci)")
    return raw(path.read_bytes(), content_type=CONTENT_TYPES[".js"], headers=security_headers(request))
