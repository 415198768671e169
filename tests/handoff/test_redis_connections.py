"""One set of Redis connections per process (`handoff/redis_connections.py`): every store opened
alike shares it, blocking reads keep connections of their own, and the last store to close it
disconnects it. And one channel context per process, so the channels share one store."""

from __future__ import annotations

import asyncio
import uuid
from urllib.parse import urlsplit

import pytest
from redis.asyncio.connection import AbstractConnection, BlockingConnectionPool

from handoff.agent_service.side_store import ServiceStore
from handoff.care_store import CareStore
from handoff.channels.common import ChannelContext
from handoff.departures import Departures
from handoff.redis_connections import RedisTimeouts, open_connections
from handoff.settings import HandoffSettings
from handoff.slack.state import SlackState
from handoff.store import HandoffStore, StoreConfig, open_store
from handoff.tracker_store import AppendOnlyRedisTrackerStore

pytestmark = pytest.mark.asyncio


def settings_for(url: str) -> HandoffSettings:
    return HandoffSettings(redis_url=url, key_prefix=f"test-{uuid.uuid4().hex[:8]}", session_secret="test-secret")


async def test_two_stores_opened_from_the_same_settings_share_one_pool(redis_url: str) -> None:
    settings = settings_for(redis_url)
    first, second = open_store(settings), open_store(settings)
    try:
        assert first.connections.commands.connection_pool is second.connections.commands.connection_pool
        assert first.connections.blocking.connection_pool is second.connections.blocking.connection_pool
        assert first.connections.blocking.connection_pool is not first.connections.commands.connection_pool
        assert await first.ping() >= 0 and await second.ping() >= 0
    finally:
        await first.close()
        await second.close()


async def test_the_stores_beside_the_handoff_store_share_its_pool(redis_url: str) -> None:
    settings = settings_for(redis_url)
    store = open_store(settings)
    url = urlsplit(redis_url)
    beside = [CareStore(settings.redis_url, store.keys), Departures(settings.redis_url, store.keys),
              ServiceStore(settings.redis_url, store.keys, retention_seconds=store.config.retention_seconds),
              SlackState(settings.redis_url, settings.key_prefix),
              AppendOnlyRedisTrackerStore(None, host=url.hostname, port=url.port, password=url.password)]
    try:
        pool = store.connections.commands.connection_pool
        assert [each.connections.commands.connection_pool for each in beside] == [pool] * len(beside)
    finally:
        for each in [store, *beside]:
            await each.close()


def in_use(pool: BlockingConnectionPool) -> set[AbstractConnection]:
    """The pool's connections taken out and not given back."""
    idle = set(pool.pool._queue)  # type: ignore[attr-defined]
    return {connection for connection in pool._connections if connection not in idle}


async def test_a_blocking_read_waits_on_a_connection_short_commands_never_take(redis_url: str) -> None:
    store = open_store(settings_for(redis_url))
    commands, blocking = store.connections.commands.connection_pool, store.connections.blocking.connection_pool
    try:
        reader = asyncio.create_task(store.read_messages("blocked", "outbox", "$", block_ms=1_000))
        while not in_use(blocking):
            await asyncio.sleep(0.01)
        assert (await store.get_state("blocked")).mode == "bot"  # answered while the reader waits
        assert in_use(blocking) and not in_use(commands) & in_use(blocking)
        await store.append_message("blocked", "outbox", "m1", "agent", "hello")
        assert [message.text for message in await reader] == ["hello"]
    finally:
        await store.close()


async def test_the_last_close_disconnects_and_a_second_close_gives_back_nothing(redis_url: str) -> None:
    first = HandoffStore(redis_url, StoreConfig(prefix="shared"))
    second = HandoffStore(redis_url, StoreConfig(prefix="shared"))
    pool = first.connections.commands.connection_pool
    await first.close()
    await first.close()
    assert first.closed and not second.closed
    third = HandoffStore(redis_url, StoreConfig(prefix="shared"))
    assert third.connections.commands.connection_pool is pool  # second still holds the set
    await second.ping()
    await second.close()
    await third.close()
    fourth = HandoffStore(redis_url, StoreConfig(prefix="shared"))
    try:
        assert fourth.connections.commands.connection_pool is not pool
        await fourth.ping()
    finally:
        await fourth.close()


async def test_other_timeouts_get_other_connections(redis_url: str) -> None:
    default, quick = open_connections(redis_url), open_connections(redis_url, RedisTimeouts(socket_seconds=0.5))
    try:
        assert default.commands is not quick.commands
        assert quick.commands.connection_pool.connection_kwargs["socket_timeout"] == 0.5
        assert quick.blocking.connection_pool.connection_kwargs["socket_timeout"] == 0.5 + 30
    finally:
        await default.close()
        await quick.close()


async def test_the_channels_of_one_process_share_one_context(redis_url: str) -> None:
    settings = settings_for(redis_url)
    first = ChannelContext.from_settings(settings)
    try:
        assert ChannelContext.from_settings(settings) is first
    finally:
        await first.store.close()
    again = ChannelContext.from_settings(settings)
    other = ChannelContext.from_settings(settings_for(redis_url))
    try:
        assert again is not first and not again.store.closed  # the server stopped: a fresh one
        assert other is not again  # other settings: a context of their own
    finally:
        await again.store.close()
        await other.store.close()


async def test_connections_left_open_in_a_closed_loop_are_not_shared_again(redis_url: str) -> None:
    async def open_and_ping() -> HandoffStore:
        store = HandoffStore(redis_url, StoreConfig(prefix="left-open"))
        await store.ping()
        return store

    # Never closed in its own loop (which has ended): its connections cannot serve this one.
    left_open = await asyncio.to_thread(asyncio.run, open_and_ping())
    later = await open_and_ping()
    try:
        assert later.connections.commands is not left_open.connections.commands
    finally:
        await later.close()
        await left_open.close()
