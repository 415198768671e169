"""Calls to Slack's Web API: one client per configuration, and Slack's failures sorted into
"try again later" (rate limits, Slack or the network down) and "this will never work" (a wrong
channel, a revoked token), so a tail waits out the first kind and reports the second."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from handoff.slack.config import SlackConfig
from handoff.slack.tail import RetryLater

TIMEOUT_SECONDS = 10
PASSING_ERRORS = frozenset({"ratelimited", "internal_error", "fatal_error", "service_unavailable",
                            "request_timeout"})


def web_client(config: SlackConfig) -> AsyncWebClient:
    """A Web API client for the configured app and API URL (a loopback stand-in in tests)."""
    return AsyncWebClient(token=config.bot_token, base_url=config.api_url, timeout=TIMEOUT_SECONDS)


async def call(request: Awaitable[AsyncSlackResponse]) -> AsyncSlackResponse:
    """Awaits a Web API call; RetryLater for a passing failure, SlackApiError for a lasting one."""
    try:
        return await request
    except SlackApiError as exc:
        status = exc.response.status_code
        error = exc.response.get("error") if isinstance(exc.response.data, dict) else None
        if status == 429 or status >= 500 or error in PASSING_ERRORS:
            raise RetryLater(f"Slack answered {status} {error or ''}".strip()) from exc
        raise
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
        raise RetryLater(f"Slack unreachable: {exc!r}") from exc


def escape(text: Any) -> str:
    """Text shown literally in Slack: `&`, `<` and `>` escaped, so nobody's words can turn into
    mentions such as <!channel> or disguised links."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
