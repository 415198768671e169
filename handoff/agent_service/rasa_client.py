"""The calls of Rasa's HTTP API (`rasa run --enable-api`) that hand a conversation back to the bot:
append events to the tracker, trigger an intent collecting the bot's replies, and read the tracker
(to see whether a call whose answer was lost took effect)."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote

import aiohttp

from handoff.rasa_api_auth import rasa_api_headers


class RasaUnavailable(Exception):
    """Rasa could not be reached or refused the call; the caller keeps the sync pending."""


class RasaClient:
    """A small aiohttp client; `start()` inside the running event loop, `close()` on shutdown."""

    def __init__(self, base_url: str, jwt_secret: str, token_seconds: float, timeout_seconds: float) -> None:
        self._base_url = base_url.rstrip("/")
        self._jwt_secret = jwt_secret
        self._token_seconds = token_seconds
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(timeout=self._timeout)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def append_events(self, conversation_id: str, events: list[dict[str, Any]]) -> None:
        """POST /conversations/{id}/tracker/events with a JSON list of events."""
        await self._post(conversation_id, "tracker/events", events)

    async def trigger_intent(self, conversation_id: str, intent: str) -> list[dict[str, Any]]:
        """POST /conversations/{id}/trigger_intent without `output_channel`, so Rasa collects the
        bot's replies and returns them as `messages`."""
        reply = await self._post(conversation_id, "trigger_intent", {"name": intent})
        messages = reply.get("messages") if isinstance(reply, dict) else None
        return [message for message in messages or [] if isinstance(message, dict)]

    async def tracker_events(self, conversation_id: str) -> list[dict[str, Any]]:
        """GET /conversations/{id}/tracker: every event of the conversation's tracker."""
        tracker = await self._call("GET", conversation_id, "tracker", None, include_events="ALL")
        events = tracker.get("events") if isinstance(tracker, dict) else None
        return [event for event in events or [] if isinstance(event, dict)]

    async def domain(self) -> dict[str, Any]:
        """GET /domain as JSON: the intents and responses a verdict may name."""
        if self._session is None:
            raise RasaUnavailable("the Rasa client is not started")
        headers = {**rasa_api_headers(self._jwt_secret, self._token_seconds), "Accept": "application/json"}
        try:
            async with self._session.get(f"{self._base_url}/domain", headers=headers) as response:
                if response.status != 200:
                    raise RasaUnavailable(f"Rasa answered {response.status} to domain: {(await response.text())[:300]}")
                domain = await response.json(content_type=None)
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
            raise RasaUnavailable(f"Rasa at {self._base_url} unreachable (domain): "
                                  f"{exc.__class__.__name__}: {exc}") from exc
        return domain if isinstance(domain, dict) else {}

    async def _post(self, conversation_id: str, endpoint: str, payload: Any) -> Any:
        # The tracker in the reply can be large and is not needed.
        return await self._call("POST", conversation_id, endpoint, payload, include_events="NONE")

    async def _call(self, method: str, conversation_id: str, endpoint: str, payload: Any, include_events: str) -> Any:
        if self._session is None:
            raise RasaUnavailable("the Rasa client is not started")
        url = f"{self._base_url}/conversations/{quote(conversation_id, safe='')}/{endpoint}"
        params = {"include_events": include_events}
        headers = rasa_api_headers(self._jwt_secret, self._token_seconds)
        try:
            async with self._session.request(method, url, json=payload, params=params, headers=headers) as response:
                if response.status != 200:
                    detail = (await response.text())[:300]
                    raise RasaUnavailable(f"Rasa answered {response.status} to {endpoint}: {detail}")
                return await response.json(content_type=None)
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
            raise RasaUnavailable(f"Rasa at {self._base_url} unreachable ({endpoint}): "
                                  f"{exc.__class__.__name__}: {exc}") from exc
