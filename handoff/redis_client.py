"""Redis clients whose pooled connections are checked without an event-loop turn, and whose
writes start no task.

Before every command, redis-py 4.6 (the newest release Rasa 3.6 allows) checks the connection it
takes from the pool for unread data by reading from the socket under `async_timeout(0)`. On Python
3.10 that check costs a task cancellation and an extra loop turn per command, a large share of a
short command's CPU; worse, a real `task.cancel()` that lands during it is taken for the check's own
timeout and swallowed, so the cancelled task runs on (a tail that never stops, a shutdown or a test
that hangs). The check here looks at what is already buffered instead, which is all the original
finds in practice: a reply left over from an interrupted command, or a socket the server closed.

Each write in redis-py 4.6 runs under `asyncio.wait_for`, which starts a task per command, a
large share of a short command's CPU. A write to a socket only waits when the socket's buffer is
full, so the write timeout is applied only then. And commands are packed by hiredis in C (as
redis-py 5 does) instead of redis-py 4.6's Python loop, several times cheaper for a multi-stream
read and for a message append. The measured costs are in docs/benchmarks.md.

Every pool made here is bounded (redis-py's BlockingConnectionPool): a caller finding all of its
connections busy waits a moment for one instead of opening more, then gets redis-py's
ConnectionError (the stores turn it into StoreUnavailable). An unbounded pool keeps every
connection a burst ever needed: 2,000 customers leaving at once left a process holding 1,969 idle
ones, and a reconnect storm over several processes would pass Redis's `maxclients`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

import hiredis
from redis.asyncio import Redis
from redis.asyncio.connection import (
    AbstractConnection,
    BlockingConnectionPool,
    Connection,
    HiredisParser,
    SSLConnection,
    UnixDomainSocketConnection,
    async_timeout,
)
from redis.exceptions import ConnectionError, TimeoutError


class BufferCheck:
    """Mixin for a redis-py connection class: the pool's readiness check without a socket read,
    writes without a task, and commands packed in C."""

    async def can_read_destructive(self: Any) -> bool:
        stream = self._reader
        if stream is None:
            return False  # not connected: nothing to read
        if stream.at_eof() or len(stream._buffer) > 0:
            return True
        parser = self._parser
        if isinstance(parser, HiredisParser):
            return parser._reader is not None and parser._reader.has_data()
        return bool(getattr(parser, "_buffer", None))

    def pack_command(self: Any, *args: Any) -> list[bytes]:
        """The command in Redis's protocol, byte for byte what redis-py makes. Arguments hiredis
        does not take (memoryviews; None or bools, which redis-py refuses with a clear DataError)
        and encodings other than UTF-8 go redis-py's way."""
        encoder = self.encoder
        if encoder.encoding.lower().replace("-", "") != "utf8" or encoder.encoding_errors != "strict":
            return Connection.pack_command(self, *args)  # redis-py's own (no connection class overrides it)
        name = args[0]
        if isinstance(name, (str, bytes)) and len(name.split()) > 1:  # e.g. "SCRIPT LOAD": one word each
            args = (*name.split(), *args[1:])
        try:
            return [hiredis.pack_command(args)]
        except TypeError:
            return Connection.pack_command(self, *args)  # redis-py's own (no connection class overrides it)

    async def send_packed_command(self: Any, command: bytes | str | Iterable[bytes], check_health: bool = True) -> None:
        """redis-py's write with its errors (a failed write closes the connection), timed only
        while it waits for a full socket buffer to drain."""
        if not self.is_connected:
            await self.connect()
        elif check_health:
            await self.check_health()
        if isinstance(command, str):
            command = command.encode()
        if isinstance(command, bytes):
            command = [command]
        writer = self._writer
        try:
            if writer.transport.is_closing():  # uvloop would raise a RuntimeError on the write
                raise ConnectionResetError("the connection is closed")
            writer.writelines(command)
            if self.socket_timeout and writer.transport.get_write_buffer_size():
                async with async_timeout(self.socket_timeout):
                    await writer.drain()
            else:
                await writer.drain()  # returns at once, or raises if the connection is lost
        except asyncio.TimeoutError:
            await self.disconnect(nowait=True)
            raise TimeoutError("Timeout writing to socket") from None
        except OSError as error:
            await self.disconnect(nowait=True)
            raise ConnectionError(f"Error while writing to socket: {error}") from error
        except BaseException:  # interrupted mid-write: what reached the socket is unknown
            await self.disconnect(nowait=True)
            raise


class BufferCheckedConnection(BufferCheck, Connection):
    pass


class BufferCheckedSSLConnection(BufferCheck, SSLConnection):
    pass


class BufferCheckedUnixConnection(BufferCheck, UnixDomainSocketConnection):
    pass


BUFFER_CHECKED: dict[type[AbstractConnection], type[AbstractConnection]] = {
    Connection: BufferCheckedConnection,
    SSLConnection: BufferCheckedSSLConnection,
    UnixDomainSocketConnection: BufferCheckedUnixConnection,
}


def buffer_checked(client: Redis) -> Redis:
    """`client`, its pool now making connections that check themselves cheaply (call before use)."""
    pool = client.connection_pool
    pool.connection_class = BUFFER_CHECKED.get(pool.connection_class, pool.connection_class)
    return client


def redis_from_url(url: str, *, max_connections: int = 16, wait_seconds: float = 1.0, **options: Any) -> Redis:
    """`Redis.from_url` (redis://, rediss:// or unix://) with buffer-checked connections, at most
    `max_connections` of them; a caller waits up to `wait_seconds` for a free one."""
    pool = BlockingConnectionPool.from_url(url, max_connections=max_connections, timeout=wait_seconds, **options)
    client = Redis(connection_pool=pool)
    client.auto_close_connection_pool = True  # the pool is the client's own, as with Redis.from_url
    return buffer_checked(client)
