"""Drift alarms in the Slack alert channel (docs/drift.md, "Where alarms show"): every open alarm
of the insights database is posted once, saying what changed, about which intent or answer
version, since when and how severe. Nothing else: no conversation id and no customer's words go
to Slack (the channel may be wider than the leads); the console shows the example conversations.

One agent-service process at a time does it (a lease in Redis, like the event tails of `tail.py`);
which alarms were posted is kept in Redis, so a restart or a takeover posts none twice (at least
once: an alarm posted just before a crash, unrecorded, is posted again).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.exc import SQLAlchemyError

from handoff.drift.alarms import StoredAlarm
from handoff.leases import new_token
from handoff.slack.state import SlackState
from handoff.slack.tail import (
    FIRST_BACKOFF_SECONDS,
    LEASE_MS,
    MAX_BACKOFF_SECONDS,
    RetryLater,
    run_then_release,
)
from handoff.slack.web import call, escape
from handoff.store import StoreUnavailable

logger = logging.getLogger(__name__)
LEASE_NAME = "drift-alarms"

ReadAlarms = Callable[[], Sequence[StoredAlarm]]


def render_alarm(alarm: StoredAlarm) -> dict[str, Any]:
    """The chat.postMessage arguments for one alarm: kind, subject, since, severity and detail."""
    since = alarm.since.strftime("%Y-%m-%d %H:%M UTC")
    text = (f"{alarm.headline}: {escape(alarm.subject)} since {since} (severity {alarm.severity:.2f}). "
            f"{escape(alarm.detail)}")
    return {"text": text, "blocks": [
        {"type": "section", "text": {"type": "mrkdwn", "text": (
            f"*{alarm.headline}* · `{escape(alarm.subject)}` · since {since} · severity *{alarm.severity:.2f}*\n"
            f"{escape(alarm.detail)}")}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": (
            "Example conversations and the Clear button are in the agent console's review page.")}]},
    ]}


class DriftAlarmPoster:
    """Posts each open alarm once into `channel` while this process holds the lease."""

    def __init__(self, state: SlackState, client: AsyncWebClient, channel: str, read_alarms: ReadAlarms,
                 every_seconds: float) -> None:
        self._state = state
        self._client = client
        self._channel = channel
        self._read_alarms = read_alarms
        self._every = every_seconds
        self._token = new_token()

    async def run(self) -> None:
        """The task body; runs until cancelled, then hands the lease on."""
        await run_then_release(self._state, LEASE_NAME, self._token, self._loop())

    async def _loop(self) -> None:
        backoff = FIRST_BACKOFF_SECONDS
        while True:
            try:
                if await self._state.hold_lease(LEASE_NAME, self._token, max(LEASE_MS, int(self._every * 3000))):
                    await self.post_new()
                backoff = FIRST_BACKOFF_SECONDS
                await asyncio.sleep(self._every)
            except (StoreUnavailable, RetryLater, SQLAlchemyError) as exc:
                logger.warning("slack drift alarms: %s; retrying in %.1f s", exc.__class__.__name__, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)

    async def post_new(self) -> int:
        """Posts the open alarms not posted before; returns how many it posted."""
        posted = 0
        for alarm in await asyncio.to_thread(self._read_alarms):
            alarm_id = str(alarm.id)
            if await self._state.drift_alarm_posted(alarm_id):
                continue
            try:
                await call(self._client.chat_postMessage(channel=self._channel, **render_alarm(alarm)))
            except SlackApiError as exc:  # lasting (a wrong channel, a revoked token): report, go on
                logger.error("drift alarm %s could not be posted to Slack: %s", alarm_id, exc.response.get("error"))
                continue
            await self._state.mark_drift_alarm_posted(alarm_id)
            posted += 1
        return posted
