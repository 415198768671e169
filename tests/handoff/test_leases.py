"""Leases (`handoff/leases.py`): one holder at a time, renewed by its holder, given up only by it."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from redis.asyncio import Redis

from handoff.leases import Leases, new_token

pytestmark = pytest.mark.asyncio


async def test_one_holder_at_a_time_until_it_gives_the_lease_up(raw_redis: Redis) -> None:
    leases, key = Leases(raw_redis), f"lease-{uuid.uuid4().hex}"
    mine, theirs = new_token(), new_token()
    assert mine != theirs
    assert await leases.hold(key, mine, 10_000)
    assert not await leases.hold(key, theirs, 10_000)
    assert await leases.hold(key, mine, 10_000)  # renewed
    await leases.release(key, theirs)  # not theirs to give up
    assert await raw_redis.get(key) == mine
    await leases.release(key, mine)
    assert await leases.hold(key, theirs, 10_000)


async def test_a_lease_not_renewed_runs_out(raw_redis: Redis) -> None:
    leases, key = Leases(raw_redis), f"lease-{uuid.uuid4().hex}"
    assert await leases.hold(key, "crashed", 50)
    await asyncio.sleep(0.1)
    assert await leases.hold(key, "next", 10_000)
