"""The insights consumer's lag as the metrics read it, on a real Redis stream and consumer group."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from handoff.insights.consumer import GROUP
from handoff.insights.lag import CaptureLag, capture_lag, entry_ms

pytestmark = pytest.mark.asyncio(loop_scope="function")


async def test_the_lag_is_the_age_of_the_oldest_entry_not_yet_stored(raw_redis: Redis) -> None:
    key = "lag-test:{insights}:events"
    await raw_redis.delete(key)
    assert await capture_lag(raw_redis, key, 0) == CaptureLag(0.0, 0)  # nothing captured yet
    first, second, third = [await raw_redis.xadd(key, {"n": str(n)}) for n in range(3)]
    now = entry_ms(third) + 5_000
    # No consumer group yet: every entry waits, the first one longest.
    assert await capture_lag(raw_redis, key, now) == CaptureLag((now - entry_ms(first)) / 1000, 3)

    await raw_redis.xgroup_create(key, GROUP, id="0")
    await raw_redis.xreadgroup(GROUP, "c1", {key: ">"}, count=2)  # read, not yet acknowledged
    assert await capture_lag(raw_redis, key, now) == CaptureLag((now - entry_ms(first)) / 1000, 3)
    await raw_redis.xack(key, GROUP, first, second)  # stored: the unread third one is the oldest waiting
    assert await capture_lag(raw_redis, key, now) == CaptureLag((now - entry_ms(third)) / 1000, 1)
    await raw_redis.xreadgroup(GROUP, "c1", {key: ">"})
    await raw_redis.xack(key, GROUP, third)
    assert await capture_lag(raw_redis, key, now) == CaptureLag(0.0, 0)
    await raw_redis.delete(key)
