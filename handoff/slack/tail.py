"""A background task that acts on the handoff event stream once, across all processes.

Slack must see each agent reply and each ticket change exactly once, however many Rasa or agent
service processes run. So one process at a time holds a lease in Redis and follows the stream
from a cursor kept in Redis; the others stand by and take over when the lease runs out. The cursor
moves after each event is handled, so a restart or a takeover resumes where the last holder
stopped (an event whose effect was done but not yet recorded may be done again: at least once).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from handoff.leases import new_token
from handoff.models import AGENT_FEED, HandoffEvent
from handoff.slack.state import SlackState
from handoff.store import HandoffStore, StoreUnavailable

logger = logging.getLogger(__name__)

LEASE_MS = 15_000
BLOCK_MS = 2_000  # well inside the lease, so the holder renews it in time
BATCH = 50
FIRST_BACKOFF_SECONDS = 0.5
MAX_BACKOFF_SECONDS = 30.0


class RetryLater(Exception):
    """The event could not be handled for a passing reason (Slack or the network is down); the tail
    waits and tries the same event again."""


Handler = Callable[[HandoffEvent], Awaitable[None]]


async def run_then_release(state: SlackState, name: str, token: str, body: Awaitable[None]) -> None:
    """Runs a leased task's `body` until it ends or is cancelled, then hands the lease `name` on."""
    try:
        await body
    finally:
        try:
            await state.release_lease(name, token)
        except StoreUnavailable:
            pass  # the lease simply runs out


class LeasedEventTail:
    """Follows an event feed for `handle` while this process holds the lease `name`."""

    def __init__(self, store: HandoffStore, state: SlackState, name: str, handle: Handler,
                 feed: str = AGENT_FEED) -> None:
        self._store = store
        self._state = state
        self._name = name
        self._handle = handle
        self._feed = feed
        self._token = new_token()

    async def run(self) -> None:
        """The task body; runs until cancelled, then hands the lease on."""
        await run_then_release(self._state, self._name, self._token, self._follow())

    async def _follow(self) -> None:
        backoff = FIRST_BACKOFF_SECONDS
        while True:
            try:
                if not await self._state.hold_lease(self._name, self._token, LEASE_MS):
                    await asyncio.sleep(LEASE_MS / 3000)
                    continue
                await self._step()
                backoff = FIRST_BACKOFF_SECONDS
            except (StoreUnavailable, RetryLater) as exc:
                logger.warning("slack %s: %s; retrying in %.1f s", self._name, exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)

    async def _step(self) -> None:
        cursor = await self._state.tail_cursor(self._name, self._feed)
        for event in await self._store.read_events(cursor, block_ms=BLOCK_MS, count=BATCH, feed=self._feed):
            # Renewed per event: a slow Slack must not let the lease lapse mid-batch, or a second
            # process would do the same events again.
            if not await self._state.hold_lease(self._name, self._token, LEASE_MS):
                return
            try:
                await self._handle(event)
            except (StoreUnavailable, RetryLater):
                raise
            except Exception:  # a bad event must not stop every later one
                logger.exception("slack %s: event %s (%s of %s) failed; skipped", self._name, event.id,
                                 event.type, event.conversation_id)
            await self._state.set_tail_cursor(self._name, event.id)
