"""Batches the Redis commands that many concurrent tasks issue into shared round trips.

Under load a channel process stores hundreds of messages a second, each with its own command.
Sent one by one, every command costs a connection checkout, a write and a read in redis-py, and
that per-command overhead, not Redis, is what limits the relay. Here a command issued while a
batch is on the wire waits for it and goes out with the next one, in a single non-transactional
pipeline; a lone command still goes out at once (one event-loop hop later).

Each caller gets its own command's reply or error. Commands keep their order, and the commands
of one batch are not atomic together: use Lua scripts where a step must be atomic.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import redis.exceptions
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from handoff.task_stop import cancel_and_wait

Command = Callable[[Pipeline], Awaitable[Any]]


class AutoPipeline:
    """Runs commands for many concurrent callers in as few pipelines as the load allows."""

    def __init__(self, redis: Redis, max_batch: int = 256) -> None:
        self._redis = redis
        self._max_batch = max_batch
        self._queued: list[tuple[Command, asyncio.Future[Any]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def execute(self, command: Command) -> Any:
        """Queues `command` (a function that adds one command to a pipeline) and returns its reply."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queued.append((command, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        batch: list[tuple[Command, asyncio.Future[Any]]] = []
        try:
            while self._queued:
                batch, self._queued = self._queued[:self._max_batch], self._queued[self._max_batch:]
                try:
                    replies = await self._send(batch)
                except Exception as error:  # noqa: BLE001 - the round trip failed: each caller gets the error
                    _fail(batch, error)
                    continue
                for (_, future), reply in zip(batch, replies):
                    if future.done():
                        continue
                    if isinstance(reply, Exception):
                        future.set_exception(reply)
                    else:
                        future.set_result(reply)
        finally:
            # Cancelled (the loop is closing) or worse: nobody may wait for a reply that never comes.
            _fail(batch, redis.exceptions.ConnectionError("the pipeline stopped before this command was answered"))
            _fail(self._queued, redis.exceptions.ConnectionError("the pipeline stopped before this command was sent"))
            self._queued = []

    async def _send(self, batch: list[tuple[Command, asyncio.Future[Any]]]) -> list[Any]:
        async with self._redis.pipeline(transaction=False) as pipe:
            for command, _ in batch:
                await command(pipe)
            return await pipe.execute(raise_on_error=False)

    async def close(self, timeout: float = 5.0) -> None:
        """Waits a little for commands already queued (the store is closing), then stops sending."""
        if self._flusher is not None and not self._flusher.done():
            _, pending = await asyncio.wait({self._flusher}, timeout=timeout)
            await cancel_and_wait(list(pending))


def _fail(batch: list[tuple[Command, asyncio.Future[Any]]], error: Exception) -> None:
    for _, future in batch:
        if not future.done():
            future.set_exception(error)
