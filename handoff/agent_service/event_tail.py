"""The one background task per service process that follows the agents' event stream in Redis and
hands each batch to the hub.

It starts at the stream's newest id (events before the process started are already reflected in
the hello a console gets on connect) and then always reads after the last id it handled, so no
event slips between two blocking reads. A Redis outage never ends it: it backs off, retries, and
once Redis answers again sends every console a fresh hello, since events may have been missed.
"""

from __future__ import annotations

import asyncio
import logging

from handoff.agent_service.hub import Hub
from handoff.agent_service.side_store import ServiceStore
from handoff.models import HandoffEvent
from handoff.store import HandoffStore, StoreUnavailable

logger = logging.getLogger(__name__)

BLOCK_MS = 5_000
BATCH = 200
FIRST_BACKOFF_SECONDS = 0.2
MAX_BACKOFF_SECONDS = 5.0


class EventTail:
    """Follows the store's event stream for this process's hub; `run` is the task body."""

    def __init__(self, store: HandoffStore, side: ServiceStore, hub: Hub) -> None:
        self._store = store
        self._side = side
        self._hub = hub

    async def run(self) -> None:
        after: str | None = None
        backoff = FIRST_BACKOFF_SECONDS
        outage = False
        while True:
            try:
                if after is None:
                    after = await self._side.latest_event_id()
                if outage:
                    await self._hub.resync()
                    outage = False
                    logger.info("redis is back; consoles resynchronised")
                events = await self._store.read_events(after, block_ms=BLOCK_MS, count=BATCH)
                if events:
                    await self._dispatch(events)
                    after = events[-1].id
                backoff = FIRST_BACKOFF_SECONDS
            except StoreUnavailable as exc:
                if not outage:
                    logger.warning("event tail: redis unavailable, retrying: %s", exc)
                outage = True
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)

    async def _dispatch(self, events: list[HandoffEvent]) -> None:
        """A Redis outage propagates (the batch is read again later); any other failure is a bug
        in one push, logged and skipped so the tail keeps going."""
        try:
            await self._hub.dispatch(events)
        except StoreUnavailable:
            raise
        except Exception:
            logger.exception("pushing %d events to consoles failed; skipped", len(events))
