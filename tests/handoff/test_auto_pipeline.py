"""AutoPipeline against a real Redis: concurrent commands share round trips, each caller still gets
its own reply or error, and a lone command is not held back."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import redis.exceptions
from redis.asyncio import Redis

from handoff.auto_pipeline import AutoPipeline

pytestmark = pytest.mark.asyncio


class CountingAutoPipeline(AutoPipeline):
    """Records the size of every round trip."""

    def __init__(self, redis: Redis, max_batch: int) -> None:
        super().__init__(redis, max_batch)
        self.batches: list[int] = []

    async def _send(self, batch: list) -> list:
        self.batches.append(len(batch))
        return await super()._send(batch)


async def test_concurrent_commands_share_round_trips_and_keep_their_own_replies(raw_redis: Redis) -> None:
    key = f"auto-{uuid.uuid4().hex}"
    batched = CountingAutoPipeline(raw_redis, max_batch=64)
    lengths = await asyncio.gather(*(batched.execute(lambda pipe, n=n: pipe.rpush(key, n)) for n in range(200)))
    assert sorted(lengths) == list(range(1, 201))  # each caller got its own RPUSH reply
    assert await raw_redis.lrange(key, 0, -1) == [str(n) for n in range(200)]  # in the order issued
    assert sum(batched.batches) == 200
    assert max(batched.batches) == 64 and len(batched.batches) < 10

    assert await batched.execute(lambda pipe: pipe.llen(key)) == 200
    assert batched.batches[-1] == 1  # a lone command goes out on its own, without waiting for company
    await batched.close()


async def test_a_failing_command_fails_only_its_caller(raw_redis: Redis) -> None:
    key = f"auto-{uuid.uuid4().hex}"
    await raw_redis.set(key + ":text", "not a number")
    batched = AutoPipeline(raw_redis)
    good, bad = await asyncio.gather(batched.execute(lambda pipe: pipe.incr(key + ":n")),
                                     batched.execute(lambda pipe: pipe.incr(key + ":text")),
                                     return_exceptions=True)
    assert good == 1
    assert isinstance(bad, redis.exceptions.ResponseError)
    await batched.close()


async def test_an_unreachable_redis_fails_every_waiting_caller() -> None:
    unreachable = Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5)
    batched = AutoPipeline(unreachable)
    outcomes = await asyncio.gather(*(batched.execute(lambda pipe: pipe.ping()) for _ in range(3)),
                                    return_exceptions=True)
    assert all(isinstance(outcome, redis.exceptions.ConnectionError) for outcome in outcomes)
    await unreachable.close()
