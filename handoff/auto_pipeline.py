"""One Redis connection on which the per-message commands of many concurrent tasks are pipelined.

Under load a channel process stores hundreds of messages a second, each with its own commands.
Through redis-py 4.6 every command, or every pipeline of them, costs a connection checkout, a
retry wrapper, timeouts and a parse per reply: several times the CPU of writing the packed command
to a socket and handing the reply to its caller, which at a thousand messages a second is a
noticeable share of a core per process (measured in docs/benchmarks.md). So these commands
skip it: each is packed (by the connection's own packer, in C), the commands issued in one
event-loop turn go out in a single write without waiting for earlier replies, and one reader task
gives each reply, in order, to its caller. Redis answers in the order it was asked.

redis-py still makes the connection (host, port, unix socket, TLS, AUTH and SELECT from the URL),
and it is taken from the client's pool and given back when it broke or closed: it counts within
the pool's bound like any other.
Replies are raw: what Redis sent, decoded if the client decodes, with error replies raised as
redis-py's exceptions (so NOSCRIPT is a NoScriptError). The commands of one write are not atomic
together: use Lua scripts where a step must be atomic. A blocking command holds up every reply
after it, so it goes only on a connection of its own (the store gives each outbox read one).
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

import hiredis
import redis.exceptions
from redis.asyncio import Redis
from redis.asyncio.connection import AbstractConnection, BaseParser

from handoff.task_stop import cancel_and_wait

READ_SIZE = 65_536


class AutoPipeline:
    """Runs commands for many concurrent callers over one pipelined connection, made when first
    needed and made again after it broke."""

    def __init__(self, redis_client: Redis) -> None:
        self._pool = redis_client.connection_pool
        self._link: _PipelinedLink | None = None
        self._connecting = asyncio.Lock()
        self._retiring: set[asyncio.Task] = set()

    async def execute(self, *args: Any) -> Any:
        """Sends one command (`"SET", key, value, ...`) and returns Redis's reply to it; raises
        redis-py's ConnectionError or TimeoutError when Redis cannot be reached or stops answering."""
        return await (await self._connected()).send(args)

    async def execute_many(self, *commands: tuple[Any, ...]) -> list[Any]:
        """Sends the commands together and returns their replies in order; raises the first error."""
        link = await self._connected()
        futures = [link.send(args) for args in commands]
        try:
            return [await future for future in futures]
        finally:
            for future in futures:
                if not future.done():
                    future.cancel()  # this caller is gone: its replies go nowhere
                elif not future.cancelled():
                    future.exception()  # any other error is known through the first one

    def abort(self) -> None:
        """Drops the connection at once, failing what it still owes (e.g. after a blocking read was
        interrupted, whose late reply would hold up the next command's)."""
        link, self._link = self._link, None
        if link is not None:
            link.fail(redis.exceptions.ConnectionError("the pipeline was aborted"))
            retiring = asyncio.create_task(self._give_back(link))
            self._retiring.add(retiring)
            retiring.add_done_callback(self._retiring.discard)

    async def _connected(self) -> _PipelinedLink:
        link = self._link
        if link is None or link.broken:
            link = await self._connect()
        return link

    async def _connect(self) -> _PipelinedLink:
        async with self._connecting:  # concurrent first callers share one connection
            if self._link is None or self._link.broken:
                broken, self._link = self._link, None
                if broken is not None:
                    await self._give_back(broken)
                # Waits for a free connection while the pool's bound is reached (then ConnectionError).
                self._link = _PipelinedLink(await self._pool.get_connection("AUTO_PIPELINE"))
            return self._link

    async def _give_back(self, link: _PipelinedLink) -> None:
        """Closes the link and returns its connection to the pool."""
        try:
            await link.close()
        finally:
            await self._pool.release(link.connection)

    async def close(self) -> None:
        """Lets commands already sent get their replies (within the read timeout), then disconnects."""
        link, self._link = self._link, None
        if link is not None:
            await self._give_back(link)
        await asyncio.gather(*self._retiring)


class _PipelinedLink:
    """A connected redis-py connection used as a pipe: packed commands out, replies in order back."""

    def __init__(self, connection: AbstractConnection) -> None:
        self.connection = connection
        self._loop = asyncio.get_running_loop()
        self._waiting: deque[asyncio.Future[Any]] = deque()
        self._unsent: list[bytes] = []
        self._error: Exception | None = None
        self._answered = 0  # replies so far: the read timeout checks that they keep coming
        self._timer: asyncio.TimerHandle | None = None
        self._replies = hiredis.Reader(**_reader_options(connection))
        self._receiver = asyncio.create_task(self._receive())

    @property
    def broken(self) -> bool:
        return self._error is not None

    def send(self, args: tuple[Any, ...]) -> asyncio.Future[Any]:
        """Queues the command for this loop turn's write; the future gets its reply."""
        if self._error is not None:
            raise type(self._error)(*self._error.args)
        packed = self.connection.pack_command(*args)  # may raise DataError: then nothing is queued
        future = self._loop.create_future()
        if not self._unsent:
            self._loop.call_soon(self._write)
        self._unsent.extend(packed)
        self._waiting.append(future)
        return future

    def _write(self) -> None:
        if not self._unsent or self._error is not None:
            return
        unsent, self._unsent = self._unsent, []
        writer = self.connection._writer
        if writer is None or writer.transport.is_closing():
            self.fail(redis.exceptions.ConnectionError("the connection to Redis is closed"))
            return
        writer.writelines(unsent)
        self._watch()

    def _watch(self) -> None:
        """Arms the read timeout: if replies are owed and none came for a whole timeout, Redis is
        taken as gone (the check re-arms itself while replies keep coming)."""
        timeout = self.connection.socket_timeout
        if timeout and self._timer is None:
            self._timer = self._loop.call_later(timeout, self._check_progress, self._answered)

    def _check_progress(self, answered_before: int) -> None:
        self._timer = None
        if not self._waiting:
            return
        reader = self.connection._reader
        # Data already received but not yet parsed is progress: after a stalled loop turn the
        # timer can run before the reader task does.
        if self._answered == answered_before and not (reader is not None and len(reader._buffer)):
            self.fail(redis.exceptions.TimeoutError("Timeout reading from Redis"))
        else:
            self._watch()

    async def _receive(self) -> None:
        reader = self.connection._reader
        try:
            while data := await reader.read(READ_SIZE):
                self._replies.feed(data)
                while (reply := self._replies.gets()) is not False:
                    self._answer(reply)
            self.fail(redis.exceptions.ConnectionError("Redis closed the connection"))
        except Exception as error:  # noqa: BLE001 - no more replies can come: every caller must hear
            self.fail(redis.exceptions.ConnectionError(f"Error while reading from Redis: {error!r}"))

    def _answer(self, reply: Any) -> None:
        self._answered += 1
        future = self._waiting.popleft()
        if future.done():  # its caller was cancelled
            return
        if isinstance(reply, Exception):  # any error reply: LOADING is a ConnectionError, not a ResponseError
            future.set_exception(reply)
        else:
            future.set_result(reply)

    def fail(self, error: Exception) -> None:
        """Every command still owed a reply gets `error`; the connection is dropped."""
        if self._error is None:
            self._error = error
        while self._waiting:
            future = self._waiting.popleft()
            if not future.done():
                future.set_exception(type(error)(*error.args))  # one each: tracebacks stay apart
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        writer = self.connection._writer
        if writer is not None:
            writer.transport.abort()

    async def close(self) -> None:
        if self._waiting and self._error is None:
            self._write()
            await asyncio.wait(list(self._waiting), timeout=self.connection.socket_timeout)
        self.fail(redis.exceptions.ConnectionError("the pipeline was closed"))
        await cancel_and_wait([self._receiver])
        await self.connection.disconnect(nowait=True)


def _reader_options(connection: AbstractConnection) -> dict[str, Any]:
    """hiredis reader settings matching the connection's: error replies as redis-py's exceptions,
    and decoding when the client decodes."""
    options: dict[str, Any] = {"protocolError": redis.exceptions.InvalidResponse,
                               "replyError": BaseParser.parse_error}
    encoder = connection.encoder
    if encoder.decode_responses:
        options["encoding"] = encoder.encoding
        options["errors"] = encoder.encoding_errors
    return options
