"""A Redis lock store that keeps the bot answering while Redis is away.

Rasa's RedisLockStore serialises each conversation's messages across processes, but raises when
Redis cannot be reached, so every message would fail. This subclass falls back to in-process
locks until Redis answers again: for that time conversations are serialised per process only,
which is the best available and far better than a silent bot. (Rasa already wraps tracker stores
in its FailSafeTrackerStore, which falls back to memory the same way.)

Configure it in endpoints.yml: `lock_store: {type: handoff.lock_store.FailSafeRedisLockStore, ...}`
with the same options as Rasa's `redis` lock store.

Rasa writes a lock record without an expiry and deletes it once its last ticket is served, so a process
killed while serving a message left the record in Redis for good; here every save gives it
`LOCK_RECORD_SECONDS`, ten ticket lifetimes (a ticket expires after Rasa's `LOCK_LIFETIME`, 60 s unless
TICKET_LOCK_LIFETIME says otherwise), refreshed whenever a ticket is issued or served.

Its synchronous client is used only from the event loop, one command at a time, so it holds at most
`LOCK_STORE_CONNECTIONS` connection, counted within the process's Redis bound
(`handoff/redis_connections.py`); Rasa's own would grow a pool without limit.
"""

from __future__ import annotations

import logging

import redis
import redis.exceptions
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, InMemoryLockStore, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

from handoff.redis_connections import LOCK_STORE_CONNECTIONS, client_name, process_bound

logger = logging.getLogger(__name__)

REDIS_DOWN = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)
LOCK_RECORD_SECONDS = int(10 * LOCK_LIFETIME)


class FailSafeRedisLockStore(RedisLockStore):
    """RedisLockStore with an in-memory fallback while Redis is unreachable."""

    def __init__(self, endpoint_config: EndpointConfig) -> None:
        super().__init__(host=endpoint_config.url or "localhost", **endpoint_config.kwargs)
        self.red: redis.Redis = bounded_like(self.red)
        self._fallback = InMemoryLockStore()

    def get_lock(self, conversation_id: str) -> TicketLock | None:
        try:
            return super().get_lock(conversation_id)
        except REDIS_DOWN as error:
            self._warn(error)
            return self._fallback.get_lock(conversation_id)

    def delete_lock(self, conversation_id: str) -> None:
        try:
            super().delete_lock(conversation_id)
        except REDIS_DOWN as error:
            self._warn(error)
        self._fallback.delete_lock(conversation_id)

    def save_lock(self, lock: TicketLock) -> None:
        try:
            self.red.set(self.key_prefix + lock.conversation_id, lock.dumps(), ex=LOCK_RECORD_SECONDS)
        except REDIS_DOWN as error:
            self._warn(error)
            self._fallback.save_lock(lock)

    @staticmethod
    def _warn(error: Exception) -> None:
        logger.warning("redis lock store unreachable, using in-process locks: %s", error)


def bounded_like(client: redis.Redis) -> redis.Redis:
    """A client with `client`'s connection options, holding at most LOCK_STORE_CONNECTIONS connections."""
    pool = client.connection_pool
    options = {**pool.connection_kwargs, "client_name": client_name("lock")}
    bounded = redis.BlockingConnectionPool(connection_class=pool.connection_class, timeout=process_bound().wait_seconds,
                                           max_connections=LOCK_STORE_CONNECTIONS, **options)
    return redis.StrictRedis(connection_pool=bounded)
