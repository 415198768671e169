"""How far the insights consumer is behind the capture stream, for the metrics.

The lag is the age of the oldest entry not yet in the database: the oldest one the consumer read
but has not acknowledged (it acknowledges after its commit), or else the first one it has not read
yet. A stream entry's id starts with the milliseconds at which Redis added it, so the age needs
no clock of the publisher's. No consumer group yet (the consumer never ran) counts every entry as
behind.
"""

from __future__ import annotations

from dataclasses import dataclass

import redis.exceptions
from redis.asyncio import Redis

from handoff.insights.consumer import GROUP


@dataclass(frozen=True)
class CaptureLag:
    seconds: float  # age of the oldest entry not yet stored; 0 when none is waiting
    entries: int  # entries read but not yet stored, plus those not read yet


def entry_ms(entry_id: str) -> int:
    return int(entry_id.split("-", 1)[0])


async def capture_lag(client: Redis, key: str, now_ms: int) -> CaptureLag:
    """The consumer group's lag on the stream at `key` (redis-py errors pass through)."""
    try:
        group = next((g for g in await client.xinfo_groups(key) if g["name"] == GROUP), None)
    except redis.exceptions.ResponseError:  # no stream yet: nothing was ever captured
        return CaptureLag(0.0, 0)
    if group is None:
        unread = await client.xrange(key, "-", "+", count=1)
        return CaptureLag(_age(unread[0][0], now_ms) if unread else 0.0, int(await client.xlen(key)))
    pending = int(group["pending"])
    oldest: str | None = None
    if pending:
        oldest = (await client.xpending(key, GROUP))["min"]
    else:
        unread = await client.xrange(key, f"({group['last-delivered-id']}", "+", count=1)
        oldest = unread[0][0] if unread else None
    unread_count = group.get("lag")
    if unread_count is None:  # Redis cannot tell (entries were trimmed): count them
        unread_count = len(await client.xrange(key, f"({group['last-delivered-id']}", "+"))
    return CaptureLag(_age(oldest, now_ms) if oldest else 0.0, pending + int(unread_count))


def _age(entry_id: str, now_ms: int) -> float:
    return max(0, now_ms - entry_ms(entry_id)) / 1000
