"""Failed identity checks of the order look-up, counted in Redis by the action server itself.

The count cannot live in a slot: the tracker the action server gets is the caller's to write, so a
count kept there could be reset before every guess. It expires with the conversation's other
records, and each conversation's count is its own.
"""

from __future__ import annotations

from functools import lru_cache

from handoff.redis_connections import open_connections
from handoff.settings import get_handoff_settings
from handoff.store import store_errors
from handoff.store_scripts import Keys

# A customer who comes back a day later starts again; an attacker waits a day per few guesses.
FAILED_CHECKS_TTL_SECONDS = 86_400


class FailedChecks:
    """The number of failed checks per conversation; raises StoreUnavailable without Redis."""

    def __init__(self, url: str, keys: Keys) -> None:
        self._keys = keys
        self.connections = open_connections(url)  # the process's, shared with its other stores
        self._redis = self.connections.commands

    async def close(self) -> None:
        await self.connections.close()

    @store_errors
    async def count_failure(self, conversation_id: str) -> int:
        """Counts one more failed check and returns how many there were."""
        key = self._keys.failed_checks(conversation_id)
        async with self._redis.pipeline(transaction=True) as pipe:
            failures, _ = await pipe.incr(key).expire(key, FAILED_CHECKS_TTL_SECONDS).execute()
        return int(failures)

    @store_errors
    async def clear(self, conversation_id: str) -> None:
        """Starts the count again (the details matched, or the look-up was given up)."""
        await self._redis.delete(self._keys.failed_checks(conversation_id))


@lru_cache(maxsize=1)
def failed_checks() -> FailedChecks:
    """The action server's counter, on the plugin's Redis (HANDOFF_REDIS_URL, key prefix)."""
    settings = get_handoff_settings()
    return FailedChecks(settings.redis_url, Keys(settings.key_prefix))
