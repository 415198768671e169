"""Buffer-checked Redis connections against a real redis-server: a cancelled task stops at once
(redis-py's stock check swallowed about a third of all cancels here, more under uvloop), and a
connection left with unread data or closed by the server is still never used as it is."""

from __future__ import annotations

import asyncio

import pytest
import uvloop
from redis.asyncio import Redis
from redis.asyncio.connection import AbstractConnection, Connection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import DataError
from redis.exceptions import TimeoutError as RedisTimeoutError

from handoff.redis_client import redis_from_url

ROUNDS = 40


async def cancels_lost(client: Redis) -> int:
    """Cancels a task busy with commands once, ROUNDS times; counts the cancels it survived."""

    async def busy() -> None:
        while True:  # every command takes a connection from the pool: the moment of the check
            await client.ping()

    lost = 0
    for round_number in range(ROUNDS):
        task = asyncio.create_task(busy())
        await asyncio.sleep(0.001 * (round_number % 7))
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=1.0)
        if not done:
            lost += 1
            while not task.done():  # stock connections: insist, or the test would hang
                task.cancel()
                await asyncio.wait({task}, timeout=0.1)
    await client.close()
    return lost


async def until_readable(connection: AbstractConnection, what: str) -> None:
    """Waits until the pool's check sees `what` on the connection (it arrives through the loop)."""
    for _ in range(200):
        if await connection.can_read_destructive():
            return
        await asyncio.sleep(0.005)
    pytest.fail(f"{what} was never seen")


@pytest.mark.parametrize("run", [asyncio.run, uvloop.run], ids=["asyncio", "uvloop"])
def test_a_task_busy_with_commands_stops_at_the_first_cancel(redis_url: str, run) -> None:
    assert run(cancels_lost(redis_from_url(redis_url))) == 0


@pytest.mark.asyncio
async def test_a_reply_left_unread_is_never_taken_for_the_next_one(redis_url: str) -> None:
    client = redis_from_url(redis_url, decode_responses=True)
    pool = client.connection_pool
    connection = await pool.get_connection("ECHO")
    await connection.send_command("ECHO", "stale")  # an interrupted command: its reply is never read
    await until_readable(connection, "the stale reply")
    await pool.release(connection)
    assert await client.echo("fresh") == "fresh"
    await client.close()


@pytest.mark.asyncio
async def test_a_connection_closed_by_the_server_is_replaced(redis_url: str) -> None:
    client = redis_from_url(redis_url, decode_responses=True)
    admin = Redis.from_url(redis_url)
    assert await client.ping()
    (connection,) = client.connection_pool._connections
    await admin.client_kill_filter(_type="normal", skipme=True)
    await until_readable(connection, "the server's close")
    assert await client.echo("still here") == "still here"
    await client.close()
    await admin.close()


@pytest.mark.asyncio
async def test_commands_start_no_task(redis_url: str) -> None:
    """redis-py's stock write starts one (asyncio.wait_for) per command, a third of its CPU."""
    client = redis_from_url(redis_url, decode_responses=True, socket_timeout=5.0)
    await client.ping()
    loop = asyncio.get_running_loop()
    started: list[object] = []

    def counting_factory(loop: asyncio.AbstractEventLoop, coro: object) -> asyncio.Task:
        started.append(coro)
        return asyncio.Task(coro, loop=loop)

    loop.set_task_factory(counting_factory)
    try:
        for number in range(10):
            await client.set("key", number)
        async with client.pipeline(transaction=False) as pipe:
            pipe.incr("key").get("key")
            assert await pipe.execute() == [10, "10"]
    finally:
        loop.set_task_factory(None)
    assert started == []
    await client.close()


@pytest.mark.asyncio
async def test_a_write_the_server_never_reads_times_out_and_drops_the_connection() -> None:
    async def never_read(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(30)

    server = await asyncio.start_server(never_read, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = redis_from_url(f"redis://127.0.0.1:{port}/0", socket_timeout=0.5)
    connection = await client.connection_pool.get_connection("SET")
    started = asyncio.get_running_loop().time()
    with pytest.raises(RedisTimeoutError, match="writing"):
        await connection.send_command("SET", "key", b"x" * 32_000_000)  # far more than socket buffers hold
    assert 0.4 < asyncio.get_running_loop().time() - started < 5
    assert not connection.is_connected
    server.close()
    await client.close()


@pytest.mark.parametrize("run", [asyncio.run, uvloop.run], ids=["asyncio", "uvloop"])
def test_a_write_to_a_closed_connection_fails_clearly(redis_url: str, run) -> None:
    run(write_after_abort(redis_url))


async def write_after_abort(redis_url: str) -> None:
    client = redis_from_url(redis_url, decode_responses=True, socket_timeout=5.0)
    connection = await client.connection_pool.get_connection("PING")
    await connection.send_command("PING")
    assert await connection.read_response() == "PONG"
    connection._writer.transport.abort()  # the socket is gone under the client
    await asyncio.sleep(0.01)
    with pytest.raises(RedisConnectionError, match="writing to socket"):
        await connection.send_command("PING", check_health=False)
    assert not connection.is_connected
    await client.close()


@pytest.mark.parametrize("args", [
    ("SET", "key", "naïve café ☕"), ("SCRIPT LOAD", "return 1"), (b"CONFIG GET", "maxmemory"),
    ("XADD", "stream", "MAXLEN", "~", 10_000, "*", "ts", 1795675656.1234567, "n", -3, "big", 10**20),
    ("SET", "key", memoryview(b"raw bytes")), ("SET", "key", b"\x00\xff" * 5000)])
def test_commands_are_packed_exactly_as_redis_py_packs_them(args: tuple) -> None:
    ours = redis_from_url("redis://127.0.0.1:1/0").connection_pool.make_connection()
    stock = Connection()
    assert b"".join(ours.pack_command(*args)) == b"".join(stock.pack_command(*args))


@pytest.mark.parametrize("value", [None, True])
def test_values_redis_py_refuses_are_still_refused_clearly(value: object) -> None:
    ours = redis_from_url("redis://127.0.0.1:1/0").connection_pool.make_connection()
    with pytest.raises(DataError, match="Invalid input"):
        ours.pack_command("SET", "key", value)


@pytest.mark.asyncio
async def test_text_round_trips_through_the_packed_commands(redis_url: str) -> None:
    client = redis_from_url(redis_url, decode_responses=True)
    text = "naïve café ☕ <b>&amp;</b> " + "x" * 10_000
    async with client.pipeline(transaction=False) as pipe:
        pipe.set("packed", text).get("packed").xadd("packed-stream", {"text": text, "n": 7})
        _, read_back, stream_id = await pipe.execute()
    assert read_back == text
    assert (await client.xrange("packed-stream"))[0] == (stream_id, {"text": text, "n": "7"})
    await client.close()
