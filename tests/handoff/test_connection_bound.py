"""The bound on a process's Redis connections (`ConnectionBound`): a burst waits for free
connections instead of opening more, a caller who waits too long gets StoreUnavailable, blocking
reads have their own share, and the lock store and the pipelined connections count within it."""

from __future__ import annotations

import asyncio
import os
import uuid
from urllib.parse import urlsplit

import pydantic
import pytest
from rasa.utils.endpoints import EndpointConfig
from redis.asyncio import Redis

from handoff.lock_store import LOCK_RECORD_SECONDS, FailSafeRedisLockStore
from handoff.redis_connections import LOCK_STORE_CONNECTIONS, ConnectionBound, open_connections
from handoff.settings import HandoffSettings
from handoff.store import HandoffStore, StoreConfig, StoreUnavailable

SMALL = ConnectionBound(max_connections=8, blocking_connections=3, wait_seconds=0.2)


async def connections_of_this_process(admin: Redis) -> dict[str, int]:
    """This process's connections in Redis by role (commands, blocking, lock)."""
    prefix = f"handoff:{os.getpid()}:"
    counts: dict[str, int] = {}
    for client in await admin.client_list():
        if client["name"].startswith(prefix):
            role = client["name"][len(prefix):]
            counts[role] = counts.get(role, 0) + 1
    return counts


def bounded_store(url: str) -> HandoffStore:
    return HandoffStore(url, StoreConfig(prefix=f"test-{uuid.uuid4().hex[:8]}", connection_bound=SMALL))


@pytest.mark.asyncio
async def test_a_burst_of_commands_waits_for_the_bound_instead_of_opening_more(redis_url: str) -> None:
    connections = open_connections(redis_url, bound=SMALL)
    admin = Redis.from_url(redis_url, decode_responses=True)
    try:
        async def slow_command(number: int) -> str:
            return await connections.commands.eval("redis.call('SET', KEYS[1], ARGV[1]) return ARGV[1]", 1,
                                                   f"test-bound:{number}", number)

        assert await asyncio.gather(*(slow_command(n) for n in range(200))) == [str(n) for n in range(200)]
        counts = await connections_of_this_process(admin)
        assert 1 <= counts["commands"] <= SMALL.command_connections == 4
    finally:
        await connections.close()
        await admin.delete(*(f"test-bound:{n}" for n in range(200)))
        await admin.close()


TIMER_TICK_SECONDS = 0.002


@pytest.mark.asyncio
async def test_a_caller_finding_no_free_connection_in_time_gets_store_unavailable(redis_url: str) -> None:
    store = bounded_store(redis_url)
    pool = store.connections.commands.connection_pool
    taken = [await pool.get_connection("HOLD") for _ in range(SMALL.command_connections)]
    try:
        started = asyncio.get_running_loop().time()
        with pytest.raises(StoreUnavailable):
            await store.get_state("c1")
        # The event loop's timers tick in milliseconds: the wait may end a tick before the loop's clock
        # shows the full wait.
        assert SMALL.wait_seconds - TIMER_TICK_SECONDS <= asyncio.get_running_loop().time() - started < 2
        await pool.release(taken.pop())
        assert (await store.get_state("c1")).mode == "bot"  # a freed connection serves the next caller
    finally:
        for connection in taken:
            await pool.release(connection)
        await store.close()


@pytest.mark.asyncio
async def test_blocking_reads_have_their_share_and_the_pipelined_connections_count(redis_url: str) -> None:
    store = bounded_store(redis_url)
    admin = Redis.from_url(redis_url, decode_responses=True)
    try:
        await store.append_message("c1", "outbox", "m1", "agent", "hello")  # on the pipelined connection
        readers = [asyncio.create_task(store.read_messages(f"quiet-{n}", "outbox", "$", block_ms=3_000))
                   for n in range(SMALL.blocking_connections)]
        while (await connections_of_this_process(admin)).get("blocking", 0) < SMALL.blocking_connections:
            await asyncio.sleep(0.02)
        with pytest.raises(StoreUnavailable):  # every blocking connection waits already
            await store.read_messages("one-more", "outbox", "$", block_ms=1_000)
        assert (await store.get_state("c1")).mode == "bot"  # short commands are not held up
        counts = await connections_of_this_process(admin)
        assert counts["blocking"] == SMALL.blocking_connections
        assert counts["commands"] <= SMALL.command_connections
        for reader in readers:
            reader.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
    finally:
        await store.close()
        await admin.close()


def test_the_lock_store_holds_one_named_connection_and_its_records_expire(redis_url: str) -> None:
    url = urlsplit(redis_url)
    locks = FailSafeRedisLockStore(EndpointConfig(url=url.hostname, port=url.port, db=0, password=url.password,
                                                  key_prefix="testbound"))
    lock = locks.create_lock("c1")
    locks.save_lock(lock)
    assert locks.get_lock("c1") is not None
    # A process killed while serving a message does not leave its lock record behind for good.
    assert 0 < locks.red.ttl(locks.key_prefix + "c1") <= LOCK_RECORD_SECONDS
    locks.delete_lock("c1")
    pool = locks.red.connection_pool
    assert pool.max_connections == LOCK_STORE_CONNECTIONS
    assert locks.red.client_getname() == f"handoff:{os.getpid()}:lock"
    pool.disconnect()


def test_the_bound_leaves_room_for_the_outbox_readers_and_short_commands() -> None:
    with pytest.raises(pydantic.ValidationError, match="must exceed outbox_readers"):
        HandoffSettings(outbox_readers=16, redis_blocking_connections=16)
    with pytest.raises(pydantic.ValidationError, match="must leave at least 4"):
        HandoffSettings(redis_max_connections=20, redis_blocking_connections=17)
    with pytest.raises(ValueError, match="too few connections"):
        ConnectionBound(max_connections=4, blocking_connections=2)
    assert ConnectionBound().command_connections == 64 - 32 - LOCK_STORE_CONNECTIONS
