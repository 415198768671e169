"""Publishes capture events to the Redis stream without ever making a caller wait or fail.

`offer` only appends to an in-memory buffer and makes sure one background task is flushing it; the
task sends what is buffered in one pipelined round trip (`XADD ... MAXLEN ~` per event, then
`EXPIRE`). Redis away, slow or full (`noeviction` refuses writes with an OOM error) costs the batch:
it is dropped and counted, with a warning at most once a minute. A buffer that reaches its bound
drops new events the same way. A customer's turn therefore never waits for capture.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import deque
from collections.abc import Mapping
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

BATCH_EVENTS = 200  # events per round trip
WARNING_INTERVAL_SECONDS = 60.0
EVENT_FIELD = "event"  # the stream entry's one field: the event as JSON


class StreamPublisher:
    """A never-blocking, never-raising writer of JSON events to one bounded stream."""

    def __init__(self, redis: Redis, key: str, maxlen: int, expire_seconds: int, buffer_events: int) -> None:
        self._redis = redis
        self.key = key
        self.maxlen = maxlen
        self.expire_seconds = expire_seconds
        self._buffer: deque[str] = deque()
        self._buffer_events = buffer_events
        self._task: asyncio.Task[None] | None = None
        self.published = 0
        self.dropped = 0
        self._last_warning = float("-inf")

    def offer(self, event: Mapping[str, Any]) -> None:
        """Queues `event` for the stream; returns at once. Without a running event loop, or with a
        full buffer, the event is dropped and counted."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.drop(1, "no event loop runs")
            return
        if len(self._buffer) >= self._buffer_events:
            self.drop(1, "the buffer is full")
            return
        self._buffer.append(json.dumps(event, default=str, separators=(",", ":")))
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._flush())

    async def _flush(self) -> None:
        while self._buffer:
            batch = [self._buffer.popleft() for _ in range(min(BATCH_EVENTS, len(self._buffer)))]
            try:
                async with self._redis.pipeline(transaction=False) as pipe:
                    for body in batch:
                        pipe.xadd(self.key, {EVENT_FIELD: body}, maxlen=self.maxlen, approximate=True)
                    pipe.expire(self.key, self.expire_seconds)
                    await pipe.execute()
                self.published += len(batch)
            except (RedisError, OSError) as error:
                self.drop(len(batch), f"Redis refused them ({type(error).__name__}: {error})")

    def drop(self, count: int, why: str) -> None:
        """Counts `count` events lost for `why`, with a warning at most once a minute."""
        self.dropped += count
        now = time.monotonic()
        if now - self._last_warning >= WARNING_INTERVAL_SECONDS:
            self._last_warning = now
            logger.warning("capture: dropped %d event(s) for %s because %s (%d dropped in all)",
                           count, self.key, why, self.dropped)

    async def drain(self, timeout: float = 2.0) -> None:
        """Waits (at most `timeout` seconds) until what was offered so far is sent or dropped."""
        task = self._task
        if task is not None and not task.done():
            try:
                await asyncio.wait_for(asyncio.shield(task), timeout)
            except asyncio.TimeoutError:
                task.cancel()
