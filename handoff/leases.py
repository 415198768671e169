"""Leases in Redis, so that one process at a time does a job that several could take up (syncing a
resolved conversation to Rasa, following a Slack event tail).

A lease is a key holding its holder's token, with an expiry: a crashed holder's lease runs out and
another process takes over. The holder renews it while it works and gives it up when it stops;
both are refused if the lease expired meanwhile and another process took it.
"""

from __future__ import annotations

import secrets

from redis.asyncio import Redis

# Renew the lease if it is ours, or take it if nobody holds it.
# KEYS[1] lease. ARGV: our token, ttl in milliseconds. Returns 1 if we hold it now, else 0.
HOLD_LEASE = """
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] or not holder then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""

# Give up a lease only if it is still ours.
# KEYS[1] lease. ARGV[1] our token. Returns how many keys were deleted.
RELEASE_LEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


def new_token() -> str:
    """A token that tells this holder apart from every other process."""
    return secrets.token_hex(8)


class Leases:
    """Takes, renews and gives up leases; Redis errors pass through (callers map them)."""

    def __init__(self, redis: Redis) -> None:
        self._hold = redis.register_script(HOLD_LEASE)
        self._release = redis.register_script(RELEASE_LEASE)

    async def hold(self, key: str, token: str, ttl_ms: int) -> bool:
        """Takes or renews lease `key` for `ttl_ms`; False if another holder has it."""
        return bool(await self._hold(keys=[key], args=[token, max(1, ttl_ms)]))

    async def release(self, key: str, token: str) -> None:
        """Lets another process take over at once instead of after the expiry."""
        await self._release(keys=[key], args=[token])
