"""Fixtures for the handoff store tests: one real redis-server per session, and stores whose keys
live under a prefix of their own so tests never see each other's data."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
import pytest_asyncio
from redis.asyncio import Redis

from handoff.store import HandoffStore, StoreConfig
from tests.redis_server import running_redis

StoreFactory = Callable[..., HandoffStore]


class FakeClock:
    """A clock the test moves by hand, for queue ages and heartbeat expiry without sleeping."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_redis(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest_asyncio.fixture(loop_scope="function")
async def make_store(redis_url: str) -> AsyncIterator[StoreFactory]:
    """Builds stores on the session's Redis, all sharing one fresh key prefix; closes them after."""
    prefix = f"test-{uuid.uuid4().hex[:10]}"
    stores: list[HandoffStore] = []

    def build(url: str = redis_url, clock: Callable[[], float] = time.time, **options: Any) -> HandoffStore:
        store = HandoffStore(url, StoreConfig(prefix=prefix, **options), clock=clock)
        stores.append(store)
        return store

    yield build
    for store in stores:
        await store.close()


@pytest_asyncio.fixture(loop_scope="function")
async def store(make_store: StoreFactory) -> HandoffStore:
    return make_store()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest_asyncio.fixture(loop_scope="function")
async def raw_redis(redis_url: str) -> AsyncIterator[Redis]:
    """A plain client for looking behind the store's back (and for planting leftovers)."""
    client = Redis.from_url(redis_url, decode_responses=True)
    yield client
    await client.close()
