"""What the customer channels share: settings, the store, the router, id signing and the rate limits,
created once per process: the channels Rasa builds in one process share one context (one store, one
pool, one count of the rate limits while Redis is away)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sanic import Blueprint, Sanic

from handoff.channels.customer_limits import CustomerLimits
from handoff.channels.router import CustomerRouter
from handoff.channels.session_ids import SessionIds
from handoff.client_address import TrustedProxies
from handoff.heap_freeze import freeze_startup_heap
from handoff.models import ChatMessage
from handoff.rate_limits import RateLimiter
from handoff.settings import HandoffSettings, get_handoff_settings
from handoff.store import HandoffStore, open_store
from handoff.utf8_text import is_utf8_text


@dataclass
class ChannelContext:
    """Everything a customer channel needs to route messages and deliver agent replies."""

    settings: HandoffSettings
    store: HandoffStore
    router: CustomerRouter
    session_ids: SessionIds
    limits: CustomerLimits
    proxies: TrustedProxies

    @classmethod
    def from_settings(cls, settings: HandoffSettings | None = None) -> ChannelContext:
        """The process's context for `settings` (the plugin's by default): made by the first channel
        that asks, and made again only for other settings or once its store was closed (when the
        server stopped)."""
        global _process_context
        settings = settings or get_handoff_settings()
        shared = _process_context
        if shared is None or shared.settings != settings or shared.store.closed:
            store = open_store(settings)
            limiter = RateLimiter(store.connections.commands, store.keys, settings.rate_limit_local_keys)
            shared = _process_context = cls(settings, store, CustomerRouter(store, settings),
                                            SessionIds(settings.session_secret), CustomerLimits(limiter, settings),
                                            TrustedProxies(settings.trusted_proxies))
        return shared


_process_context: ChannelContext | None = None


def freeze_heap_after_start(bp: Blueprint, settings: HandoffSettings) -> None:
    """Freezes the server's start-up heap (model included) once it serves, if the settings say so."""
    if not settings.freeze_startup_heap:
        return

    @bp.after_server_start
    async def freeze(_app: Sanic, _loop: Any) -> None:
        freeze_startup_heap()


def message_id_from(data: dict[str, Any]) -> str:
    """The client's message id if it sent a usable one (so retries are recognised), else a new one."""
    candidate = data.get("message_id")
    if isinstance(candidate, str) and 0 < len(candidate) <= 100 and is_utf8_text(candidate):
        return candidate
    return uuid.uuid4().hex


def outgoing_payload(message: ChatMessage) -> dict[str, Any]:
    """How an outbox message looks to the customer's client (rasa-webchat's `bot_uttered` shape)."""
    payload: dict[str, Any] = {"text": message.text}
    extra = message.extra or {}
    if extra.get("buttons"):
        payload["quick_replies"] = [
            {"content_type": "text", "title": button.get("title", ""), "payload": button.get("payload", "")}
            for button in extra["buttons"]
        ]
    payload["metadata"] = {
        "message_id": message.id,
        "stream_id": message.stream_id,
        "sender": "bot" if message.sender == "bot" else "agent",
        "agent_name": extra.get("agent_name", ""),
        "kind": message.kind,
    }
    return payload
