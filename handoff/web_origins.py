"""Web origins (`scheme://host[:port]`) as browsers send them in `Origin`, for every allow-list of
pages the plugin keeps: the shop pages that may embed the chat widget, the pages that may open the
agent console's WebSocket."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}


class OriginsSettingError(ValueError):
    """An origins setting (or the URL it defaults to) holds something that is not an origin."""


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


def allowed_origins(configured: Iterable[str] | None, default_url: str, setting: str,
                    default_setting: str) -> frozenset[str]:
    """The origins of `configured`, or when it is None the origin of `default_url`;
    OriginsSettingError names the setting of a value that is not an origin."""
    allowed = set()
    for value in configured if configured is not None else [default_url]:
        origin = normalise_origin(value)
        if origin is None:
            named = setting if configured is not None else default_setting
            raise OriginsSettingError(f"{named}: {value!r} is not an origin like https://shop.example.com")
        allowed.add(origin)
    return frozenset(allowed)
