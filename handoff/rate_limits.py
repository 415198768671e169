"""Rate limits counted in Redis, so they hold across every process that serves customers.

Each limit is a `RateLimit` (`count` per `seconds`) kept as one Redis key per subject (a
conversation, a client address) with the generic cell rate algorithm: the key holds the time at
which the subject's allowance is full again ("theoretical arrival time"). A hit moves that time on
by `seconds / count`; a hit that would move it more than `seconds` past now is refused, with the
wait until it would not be. So `count` may come at once, then one every `seconds / count`, and the
key expires as soon as the allowance is full again. One Lua script reads and moves the time
atomically, with Redis's own clock, so processes on hosts whose clocks differ agree.

When Redis cannot be reached the same count runs in this process's memory (bounded, least recently
seen forgotten first): each process then allows up to the limit on its own, which is looser but
never refuses everyone, and Redis is asked again a few seconds later.
"""

from __future__ import annotations

import logging
import math
import time
from collections import OrderedDict
from collections.abc import Callable

from redis.asyncio import Redis

from handoff.settings import RateLimit
from handoff.store import StoreUnavailable, store_errors
from handoff.store_scripts import Keys

logger = logging.getLogger(__name__)

REDIS_RETRY_SECONDS = 5.0  # after a failure, count in memory this long before asking Redis again

# KEYS[1] the subject's key. ARGV: milliseconds per hit (seconds / count), milliseconds of the whole
# allowance (seconds). Returns 0 when the hit counts, else the milliseconds until one would.
HIT = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local step, window = tonumber(ARGV[1]), tonumber(ARGV[2])
local full_at = tonumber(redis.call('GET', KEYS[1]) or now)
if full_at < now then full_at = now end
local wait = full_at + step - window - now
if wait > 0 then return math.ceil(wait) end
redis.call('SET', KEYS[1], string.format('%.3f', full_at + step), 'PX', math.ceil(full_at + step - now))
return 0
"""


def step_and_window_ms(limit: RateLimit) -> tuple[float, float]:
    """The allowance one hit uses and the whole allowance, in milliseconds."""
    return limit.seconds * 1000 / limit.count, limit.seconds * 1000


class LocalCounts:
    """The same count in this process's memory, for at most `max_keys` subjects."""

    def __init__(self, max_keys: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_keys = max_keys
        self.clock = clock
        self._full_at: OrderedDict[str, float] = OrderedDict()

    def hit(self, key: str, limit: RateLimit) -> float:
        """0 when the hit counts, else the seconds until one would."""
        step, window = step_and_window_ms(limit)
        now = self.clock() * 1000
        full_at = max(self._full_at.pop(key, now), now)
        wait = full_at + step - window - now
        if wait > 0:
            self._full_at[key] = full_at
            return wait / 1000
        self._full_at[key] = full_at + step
        while len(self._full_at) > self.max_keys:
            self._full_at.popitem(last=False)
        return 0.0

    def __len__(self) -> int:
        return len(self._full_at)


class RateLimiter:
    """Counts hits per (scope, subject) in Redis, or in memory while Redis is unreachable."""

    def __init__(self, redis: Redis, keys: Keys, max_local_keys: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.keys = keys
        self.local = LocalCounts(max_local_keys, clock)
        self.clock = clock
        self._hit = redis.register_script(HIT)
        self._redis_again_at = 0.0

    async def hit(self, scope: str, subject: str, limit: RateLimit) -> float:
        """Counts one hit; returns 0 when it is allowed, else the seconds to wait before the next."""
        key = self.keys.rate_limit(scope, subject)
        if self.clock() >= self._redis_again_at:
            try:
                return await self._hit_in_redis(key, limit)
            except StoreUnavailable as error:
                logger.warning("rate limits counted per process for %.0f s: %s", REDIS_RETRY_SECONDS, error)
                self._redis_again_at = self.clock() + REDIS_RETRY_SECONDS
        return self.local.hit(key, limit)

    @store_errors
    async def _hit_in_redis(self, key: str, limit: RateLimit) -> float:
        step, window = step_and_window_ms(limit)
        wait_ms = await self._hit(keys=[key], args=[repr(step), repr(window)])
        return int(wait_ms) / 1000


def retry_after_seconds(wait: float) -> int:
    """A wait as the whole seconds a Retry-After header gives (at least 1)."""
    return max(1, math.ceil(wait))
