"""Redis state that only the agent service uses, kept beside `HandoffStore` with the same key prefix,
connections and cluster rule (one hash tag per atomic step; key names in `store_scripts.Keys`):

- `<prefix>:{<conversation>}:pending_sync` (hash): a resolve whose Rasa tracker sync has not
  finished yet (see `rasa_sync.py`); it survives restarts so the sync is retried until it succeeds,
  or until the retention period has passed since the marker was last written (the conversation's
  records are gone by then, and Rasa's tracker with them).
- `<prefix>:{<conversation>}:pending_sync_lease`: the process syncing it now (see `leases.py`).
- `<prefix>:{pending_sync}:due` (sorted set: conversation -> when to try next): the retry index.
  An index entry is written before its marker and removed after it, so a marker is never
  unindexed; an entry without a marker (removed, or expired) is dropped when found.

It also offers the one read of the agents' event stream that `HandoffStore` lacks: the newest id,
so a tail can start exactly at "now" and never skip an event between two blocking reads.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

from handoff.leases import Leases, new_token
from handoff.models import one_of
from handoff.redis_connections import DEFAULT_TIMEOUTS, RedisTimeouts, open_connections
from handoff.store import store_errors
from handoff.store_scripts import Keys

# How far a resolve's sync got: the tracker still lacks the live messages (`events`), the
# welcome-back is still to fetch (`trigger`), or nothing is left (`done`).
SyncStage = Literal["events", "trigger", "done"]


@dataclass
class PendingSync:
    """What a resolve must still tell Rasa: which live messages (those of the handoff that started
    at `since` and ended with message `until_seq`), which slots, and how far it got (`stage`:
    `events` until the tracker has them, then `trigger` until the welcome-back is fetched)."""

    conversation_id: str
    agent_id: str
    agent_name: str
    channel: str
    since: float
    until_seq: int
    version: int  # the conversation's state version before the resolve
    slots: dict[str, Any] = field(default_factory=dict)
    queued_at: float | None = None  # this handoff's own request time (`since` may reach further back)
    stage: SyncStage = "events"
    sync_id: str = field(default_factory=lambda: secrets.token_hex(8))
    attempts: int = 0
    last_error: str = ""

    def to_hash(self) -> dict[str, str]:
        return {name: json.dumps(value) for name, value in asdict(self).items()}

    @classmethod
    def from_hash(cls, values: dict[str, str]) -> PendingSync:
        names = {f.name for f in fields(cls)}
        pending = cls(**{name: json.loads(value) for name, value in values.items() if name in names})
        pending.stage = one_of(pending.stage, SyncStage, "sync stage")
        return pending


class ServiceStore:
    """Async access to the agent service's own keys; every method raises StoreUnavailable when
    Redis cannot be reached."""

    def __init__(self, url: str, keys: Keys, timeouts: RedisTimeouts = DEFAULT_TIMEOUTS, *,
                 retention_seconds: int) -> None:
        self.keys = keys
        self._retention_seconds = retention_seconds
        self.connections = open_connections(url, timeouts)  # the process's, shared with its other stores
        self._redis = self.connections.commands
        self._leases = Leases(self._redis)

    async def close(self) -> None:
        await self.connections.close()

    @store_errors
    async def latest_event_id(self) -> str:
        """Id of the newest agent event, or "0-0" when there is none yet."""
        newest = await self._redis.xrevrange(self.keys.events, count=1)
        return newest[0][0] if newest else "0-0"

    @store_errors
    async def save_pending(self, pending: PendingSync, due_at: float) -> None:
        """Writes (or replaces) the marker, kept for the retention period, and schedules its next
        attempt."""
        await self._redis.zadd(self.keys.pending_sync_due, {pending.conversation_id: due_at})
        key = self.keys.pending_sync(pending.conversation_id)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(key)
            pipe.hset(key, mapping=pending.to_hash())
            pipe.expire(key, self._retention_seconds)
            await pipe.execute()

    @store_errors
    async def load_pending(self, conversation_id: str) -> PendingSync | None:
        values = await self._redis.hgetall(self.keys.pending_sync(conversation_id))
        return PendingSync.from_hash(values) if values else None

    @store_errors
    async def drop_pending(self, conversation_id: str) -> None:
        await self._redis.delete(self.keys.pending_sync(conversation_id))
        await self._redis.zrem(self.keys.pending_sync_due, conversation_id)

    @store_errors
    async def due_pending(self, now: float, limit: int = 50) -> list[str]:
        """Conversations whose sync should be tried again by `now`."""
        return await self._redis.zrangebyscore(self.keys.pending_sync_due, "-inf", now, start=0, num=limit)

    @store_errors
    async def acquire_lease(self, conversation_id: str, ttl_seconds: float) -> str | None:
        """A token if this process may sync the conversation now; None if another one is at it."""
        token = new_token()
        taken = await self._leases.hold(self.keys.pending_sync_lease(conversation_id), token, int(ttl_seconds * 1000))
        return token if taken else None

    @store_errors
    async def release_lease(self, conversation_id: str, token: str) -> None:
        await self._leases.release(self.keys.pending_sync_lease(conversation_id), token)
