"""The web pages the agent service serves: the agent console (`/console`), the chat widget's script
and styles, an assistant's demo page with the widget (`/shop`, only when `demo_page_dir` is set),
and the pinned socket.io and chart.js browser builds from `node_modules` (no build step). Pages are public;
everything they load from the API needs the agent's token.

What is the assistant's own (the console's resolve field, the widget's storage key, the demo page)
comes from the settings, filled into `{{NAME}}` placeholders of the pages, escaped.

Each page gets a Content-Security-Policy that allows only our own scripts and styles and, for
connections, this service and the chat server, so even a slip in escaping runs no injected code.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
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
ASSETS = frozenset({"console.js", "console.css", "dashboard.js", "review.js", "widget.js", "widget.css"})
DEMO_PAGE = "index.html"
DEMO_ASSET_SUFFIXES = frozenset({".css", ".js"})


def blueprint() -> Blueprint:
    bp = Blueprint("pages")
    bp.add_route(home, "/", methods=["GET"], ctx_auth=PUBLIC)
    bp.add_route(console, "/console", methods=["GET"], ctx_auth=PUBLIC)
    bp.add_route(shop, "/shop", methods=["GET"], ctx_auth=PUBLIC)
    bp.add_route(shop_asset, "/shop/<name:str>", methods=["GET"], ctx_auth=PUBLIC)
    bp.add_route(asset, "/static/<name:str>", methods=["GET"], ctx_auth=PUBLIC)
    bp.add_route(socketio_client, "/vendor/socket.io.min.js", methods=["GET"], ctx_auth=PUBLIC)
    bp.add_route(chartjs, "/vendor/chart.umd.js", methods=["GET"], ctx_auth=PUBLIC)
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


def fill(page: Path, values: Mapping[str, str]) -> bytes:
    """The page with each `{{NAME}}` replaced by its value, HTML-escaped (quotes too)."""
    text = page.read_text(encoding="utf-8")
    for name, value in values.items():
        text = text.replace("{{" + name + "}}", html.escape(value, quote=True))
    return text.encode()


async def home(_request: Request) -> HTTPResponse:
    return redirect("/console")


async def console(request: Request) -> HTTPResponse:
    """The console, told which field (if any) its resolve form offers."""
    field = request.app.ctx.settings.console_resolve_field
    page = STATIC_DIR / "console.html"
    return _file(request, page, fill(page, {"RESOLVE_FIELD": json.dumps(field.dict() if field else None)}))


def _demo_dir(settings: HandoffSettings) -> Path:
    if settings.demo_page_dir is None:
        raise ApiError(404, "no demo page is configured (setting demo_page_dir)")
    return settings.demo_page_dir


async def shop(request: Request) -> HTTPResponse:
    """The assistant's demo page, told where the chat server is and the widget's storage key."""
    settings: HandoffSettings = request.app.ctx.settings
    page = _demo_dir(settings) / DEMO_PAGE
    return _file(request, page, fill(page, {"CHAT_SERVER": chat_server_url(settings),
                                            "CHAT_STORAGE_KEY": settings.widget_storage_key}))


async def shop_asset(request: Request, name: str) -> HTTPResponse:
    """A style sheet or script of the demo page, straight from its folder (nothing below it)."""
    path = _demo_dir(request.app.ctx.settings) / name
    if Path(name).name != name or path.suffix not in DEMO_ASSET_SUFFIXES or not path.is_file():
        raise ApiError(404, f"no such file: {name}")
    return _file(request, path)


async def asset(request: Request, name: str) -> HTTPResponse:
    if name not in ASSETS:
        raise ApiError(404, f"no such file: {name}")
    return _file(request, STATIC_DIR / name)


def _vendor_file(request: Request, path: Path, what: str) -> HTTPResponse:
    if not path.is_file():
        raise ApiError(503, f"the {what} is missing ({path}); run `make setup` (npm ci)")
    return raw(path.read_bytes(), content_type=CONTENT_TYPES[".js"], headers=security_headers(request))


async def socketio_client(request: Request) -> HTTPResponse:
    return _vendor_file(request, request.app.ctx.settings.socketio_client_file, "socket.io browser client")


async def chartjs(request: Request) -> HTTPResponse:
    """chart.js, for the lead's dashboard in the console."""
    return _vendor_file(request, request.app.ctx.settings.chartjs_file, "chart.js browser build")
