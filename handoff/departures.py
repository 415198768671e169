"""Customers who left while waiting for an agent: their tickets are closed as `abandoned`.

A widget customer who closes the tab while queued would otherwise stay in the queue for good, and
an agent would claim a conversation nobody reads. So a channel records when a waiting customer's
last connection in its process closes (`record_departure`) and clears that when they connect
again, in any process (`back`). The agent service sweeps: a conversation still waiting
`abandon_after_seconds` after its customer left is abandoned (the usual transition, so consoles
and Slack alerts see it, and a customer who writes again later is back with the bot). A customer
already talking to an agent is left to that agent, who sees them go quiet and resolves.

Departures live in one sorted set (score: when the customer left) next to the queue.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from handoff.models import QUEUED, WAITING_OFFLINE
from handoff.redis_connections import DEFAULT_TIMEOUTS, RedisTimeouts, open_connections
from handoff.store import HandoffStore, StoreUnavailable, store_errors
from handoff.store_scripts import REMOVE_IF_SCORE, Keys

logger = logging.getLogger(__name__)

ABANDONED_FROM = (QUEUED, WAITING_OFFLINE)


class Departures:
    """When each waiting customer's last connection closed; raises StoreUnavailable without Redis."""

    def __init__(self, url: str, keys: Keys, timeouts: RedisTimeouts = DEFAULT_TIMEOUTS, *,
                 clock: Callable[[], float] = time.time) -> None:
        self._key = keys.departures
        self._clock = clock
        self.connections = open_connections(url, timeouts)  # the process's, shared with its other stores
        self._redis = self.connections.commands
        self._remove_if_score = self._redis.register_script(REMOVE_IF_SCORE)

    async def close(self) -> None:
        await self.connections.close()

    @store_errors
    async def left(self, conversation_id: str) -> None:
        await self._redis.zadd(self._key, {conversation_id: self._clock()})

    @store_errors
    async def back(self, conversation_id: str) -> None:
        await self._redis.zrem(self._key, conversation_id)

    @store_errors
    async def away_since(self, conversation_id: str) -> float | None:
        return await self._redis.zscore(self._key, conversation_id)

    @store_errors
    async def gone_longer_than(self, seconds: float, limit: int = 100) -> list[tuple[str, float]]:
        """(conversation, left at) of the customers away longer than `seconds`, longest first."""
        return await self._redis.zrangebyscore(self._key, "-inf", self._clock() - seconds, start=0, num=limit,
                                               withscores=True)

    @store_errors
    async def forget(self, conversation_id: str, left_at: float) -> None:
        """Drops a departure unless the customer left again since (a newer time is kept)."""
        await self._remove_if_score(keys=[self._key], args=[conversation_id, repr(left_at)])


async def record_departure(store: HandoffStore, departures: Departures, conversation_id: str) -> None:
    """The customer's last connection closed: remembered only if they wait for an agent, so the
    sweeper never works through the (many more) customers who were only talking to the bot."""
    if (await store.get_state(conversation_id)).mode in ABANDONED_FROM:
        await departures.left(conversation_id)


async def abandon_departed(store: HandoffStore, departures: Departures, after_seconds: float,
                           batch: int = 100, max_batches: int = 50) -> list[str]:
    """One sweep: abandons the waiting conversations whose customer left over `after_seconds` ago
    (all that are due, `batch` at a time, at most `max_batches`); returns them. A departure whose
    conversation is no longer waiting (claimed meanwhile) is just forgotten."""
    abandoned: list[str] = []
    for _ in range(max_batches):
        due = await departures.gone_longer_than(after_seconds, limit=batch)
        for conversation_id, left_at in due:
            if (await store.abandon(conversation_id, ABANDONED_FROM)).ok:
                abandoned.append(conversation_id)
                logger.info("%s abandoned: the customer left over %.0f s ago", conversation_id, after_seconds)
            await departures.forget(conversation_id, left_at)
        if len(due) < batch:
            break
    return abandoned


async def sweep_departures(store: HandoffStore, departures: Departures, after_seconds: float) -> None:
    """The agent service's task body: a sweep every few seconds, whatever Redis does meanwhile."""
    interval = min(5.0, max(0.2, after_seconds / 4))
    while True:
        try:
            await abandon_departed(store, departures, after_seconds)
        except StoreUnavailable as error:
            logger.warning("departure sweep skipped: %s", error)
        await asyncio.sleep(interval)
