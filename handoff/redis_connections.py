"""One set of Redis connections per process, shared by every store that talks to the same Redis.

A channel process used to open a pool per store (handoff state, closed tickets, departures, Slack
keys), each with the same timeouts, so the connections to one Redis multiplied with the stores.
Now every store opened with the same URL and timeouts gets the same set: one client for short
commands, and one whose connections only blocking reads (XREAD BLOCK) take, with a socket timeout
longer than the longest block. Each blocking read still has a connection of its own, and a
waiting reader never holds one that short commands need.

The set is counted: each store opens it and closes it once; the last one to close it disconnects
it and the next store opened makes a new one. So a set does not outlive the event loop its
connections were made in (tests run one loop each, and a server started again gets new ones);
should a store never be closed, a set opened in a loop that has since closed is not shared again.

The set is bounded (`ConnectionBound`, from the settings `redis_max_connections`,
`redis_blocking_connections` and `redis_pool_wait_seconds`): its blocking client has
`blocking_connections` of the bound (the channel's outbox readers and the REST long polls wait on
these), one is kept for the lock store's synchronous client (`handoff/lock_store.py`), and short
commands, the stores' pipelined connections included, share the rest. A caller finding none free
waits up to `wait_seconds`, then gets StoreUnavailable. Every connection is named after its
process (`client_name`), so Redis's CLIENT LIST shows what each process holds.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from urllib.parse import quote

import redis.exceptions
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from handoff.redis_client import redis_from_url


@dataclass(frozen=True)
class RedisTimeouts:
    """How long a store waits for Redis; the defaults suit a Redis on the same network."""

    socket_seconds: float = 2.0  # a hung Redis surfaces as StoreUnavailable after this
    connect_seconds: float = 1.0
    max_block_ms: int = 30_000  # longest wait a blocking read may ask for


DEFAULT_TIMEOUTS = RedisTimeouts()

# The lock store's synchronous client is used only from the event loop: one command at a time.
LOCK_STORE_CONNECTIONS = 1


@dataclass(frozen=True)
class ConnectionBound:
    """How many connections a process opens to one Redis, and how long a caller waits for a free one."""

    max_connections: int = 64
    blocking_connections: int = 32  # of max_connections, for reads that wait (XREAD BLOCK)
    wait_seconds: float = 1.0

    def __post_init__(self) -> None:
        if self.command_connections < 2 or self.blocking_connections < 1:
            raise ValueError(f"{self} leaves too few connections for short commands or blocking reads")

    @property
    def command_connections(self) -> int:
        """What short commands share: the bound less the blocking reads' and the lock store's."""
        return self.max_connections - self.blocking_connections - LOCK_STORE_CONNECTIONS


def process_bound() -> ConnectionBound:
    """The bound the plugin's settings give every process."""
    from handoff.settings import get_handoff_settings  # the settings module needs nothing of this one

    settings = get_handoff_settings()
    return ConnectionBound(settings.redis_max_connections, settings.redis_blocking_connections,
                           settings.redis_pool_wait_seconds)


def client_name(role: str) -> str:
    """The name this process's connections of `role` carry in Redis's CLIENT LIST."""
    return f"handoff:{os.getpid()}:{role}"


class _ConnectionSet:
    """The clients of one (URL, timeouts) in this process and how many holders they have."""

    def __init__(self, url: str, timeouts: RedisTimeouts, bound: ConnectionBound) -> None:
        self.key = (url, timeouts, bound)
        self.commands = _client(url, timeouts.socket_seconds, timeouts.connect_seconds,
                                bound.command_connections, bound.wait_seconds, "commands")
        self.blocking = _client(url, timeouts.socket_seconds + timeouts.max_block_ms / 1000,
                                timeouts.connect_seconds, bound.blocking_connections, bound.wait_seconds, "blocking")
        self.holders = 0
        self.loop = _running_loop()  # None when opened before a loop runs (Rasa builds channels so)

    @property
    def stale(self) -> bool:
        """Opened in a loop that has closed: its connections cannot serve another one."""
        return self.loop is not None and self.loop.is_closed()

    async def release(self) -> None:
        self.holders -= 1
        if self.holders == 0:
            if _open_sets.get(self.key) is self:
                del _open_sets[self.key]
            if self.stale:
                return  # its connections cannot be closed from another loop; they go with their sockets
            await self.commands.close()
            await self.blocking.close()


_open_sets: dict[tuple[str, RedisTimeouts, ConnectionBound], _ConnectionSet] = {}


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _client(url: str, read_timeout: float, connect_timeout: float, max_connections: int, wait_seconds: float,
            role: str) -> Redis:
    # One quick retry on a fresh connection: after a Redis restart every pooled connection is
    # stale, and without it each one would fail a request before reconnecting.
    return redis_from_url(url, max_connections=max_connections, wait_seconds=wait_seconds, decode_responses=True,
                          socket_timeout=read_timeout, socket_connect_timeout=connect_timeout,
                          retry=Retry(NoBackoff(), 1), retry_on_error=[redis.exceptions.ConnectionError],
                          client_name=client_name(role))


class RedisConnections:
    """One store's hold on its process's connections to a Redis: `commands` for short commands,
    `blocking` for reads that wait. Closing gives the hold back (a second close does nothing)."""

    def __init__(self, shared: _ConnectionSet) -> None:
        self._shared: _ConnectionSet | None = shared
        self.commands = shared.commands
        self.blocking = shared.blocking

    @property
    def closed(self) -> bool:
        return self._shared is None

    async def close(self) -> None:
        shared, self._shared = self._shared, None
        if shared is not None:
            await shared.release()


def open_connections(url: str, timeouts: RedisTimeouts = DEFAULT_TIMEOUTS,
                     bound: ConnectionBound | None = None) -> RedisConnections:
    """A hold on this process's connections to `url` with `timeouts` (made if none are open),
    at most `bound` of them (by default the settings' bound)."""
    key = (url, timeouts, bound or process_bound())
    shared = _open_sets.get(key)
    if shared is None or shared.stale:
        shared = _open_sets[key] = _ConnectionSet(*key)
    shared.holders += 1
    return RedisConnections(shared)


def redis_url(host: str, port: int, db: int, password: str | None = None, use_ssl: bool = False) -> str:
    """The URL of a Redis given by parts (as Rasa's endpoints.yml gives it)."""
    credentials = f":{quote(password, safe='')}@" if password else ""
    return f"{'rediss' if use_ssl else 'redis'}://{credentials}{host}:{int(port)}/{int(db)}"
