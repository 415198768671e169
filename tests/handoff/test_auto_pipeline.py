"""AutoPipeline against a real Redis: the commands of one loop turn go out in one write, each
caller gets its own reply or error in order, and a broken or silent Redis fails every waiting
caller with redis-py's errors instead of leaving them waiting."""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid
from pathlib import Path

import pytest
import redis.exceptions
from redis.asyncio import Redis

from handoff.auto_pipeline import AutoPipeline
from handoff.redis_client import redis_from_url
from tests.redis_server import RedisServer

pytestmark = pytest.mark.asyncio


def pipeline_to(url: str, **options: object) -> AutoPipeline:
    return AutoPipeline(redis_from_url(url, decode_responses=True, **options))


def count_writes(batched: AutoPipeline) -> list[int]:
    """Wraps the live connection's writer: the number of commands' buffers in each write."""
    writes: list[int] = []
    writer = batched._link.connection._writer
    original = writer.writelines

    def counted(buffers: list[bytes]) -> None:
        writes.append(len(buffers))
        original(buffers)

    writer.writelines = counted
    return writes


async def test_commands_of_one_turn_share_a_write_and_keep_their_own_replies(
        redis_url: str, raw_redis: Redis) -> None:
    key = f"auto-{uuid.uuid4().hex}"
    batched = pipeline_to(redis_url)
    assert await batched.execute("PING") == "PONG"  # connects
    writes = count_writes(batched)
    lengths = await asyncio.gather(*(batched.execute("RPUSH", key, n) for n in range(200)))
    assert lengths == list(range(1, 201))  # each caller got its own RPUSH reply, in the order issued
    assert await raw_redis.lrange(key, 0, -1) == [str(n) for n in range(200)]
    assert writes == [200]

    assert await batched.execute("LLEN", key) == 200
    assert writes == [200, 1]  # a lone command goes out on its own, without waiting for company
    await batched.close()


async def test_error_replies_fail_only_their_caller_as_redis_py_exceptions(
        redis_url: str, raw_redis: Redis) -> None:
    key = f"auto-{uuid.uuid4().hex}"
    await raw_redis.set(key + ":text", "not a number")
    batched = pipeline_to(redis_url)
    good, bad, unknown_script, after = await asyncio.gather(
        batched.execute("INCR", key + ":n"), batched.execute("INCR", key + ":text"),
        batched.execute("EVALSHA", "0" * 40, 0), batched.execute("INCR", key + ":n"), return_exceptions=True)
    assert (good, after) == (1, 2)
    assert isinstance(bad, redis.exceptions.ResponseError) and "not an integer" in str(bad)
    assert isinstance(unknown_script, redis.exceptions.NoScriptError)
    with pytest.raises(redis.exceptions.DataError):  # refused before anything is sent
        await batched.execute("SET", key, None)
    assert await batched.execute("GET", key + ":n") == "2"
    await batched.close()


async def test_a_cancelled_caller_does_not_shift_the_replies_of_others(redis_url: str) -> None:
    key = f"auto-{uuid.uuid4().hex}"
    batched = pipeline_to(redis_url)
    assert await batched.execute("PING") == "PONG"
    first = asyncio.create_task(batched.execute("INCR", key))
    second = asyncio.create_task(batched.execute("INCR", key))
    await asyncio.sleep(0)
    first.cancel()
    assert await second == 2  # the cancelled INCR still ran, and its reply went nowhere
    assert await batched.execute("INCR", key) == 3
    await batched.close()


async def test_an_unreachable_redis_fails_every_waiting_caller() -> None:
    batched = pipeline_to("redis://127.0.0.1:1", socket_connect_timeout=0.5)
    outcomes = await asyncio.gather(*(batched.execute("PING") for _ in range(3)), return_exceptions=True)
    assert all(isinstance(outcome, redis.exceptions.ConnectionError) for outcome in outcomes)


async def test_a_restarted_redis_fails_the_waiting_callers_then_is_reconnected(tmp_path: Path) -> None:
    server = RedisServer(tmp_path)
    server.start()
    try:
        batched = pipeline_to(server.url, socket_timeout=2)
        assert await batched.execute("SET", "k", "v") == "OK"
        blocked = asyncio.create_task(batched.execute("BLPOP", "never", 0))  # owed a reply when Redis goes
        await asyncio.sleep(0.1)
        server.stop()
        with pytest.raises(redis.exceptions.ConnectionError):
            await blocked
        with pytest.raises(redis.exceptions.ConnectionError):
            await batched.execute("PING")  # nothing to connect to yet
        server.start()
        assert await batched.execute("PING") == "PONG"  # the same pipeline connects again
        await batched.close()
    finally:
        server.stop()


async def test_a_redis_still_loading_its_data_fails_the_caller_instead_of_answering_an_error(
        tmp_path: Path) -> None:
    # After a restart Redis answers LOADING until its data is read back. redis-py makes that a
    # ConnectionError, not a ResponseError; it once came back as a reply, and the agent service
    # answered the send with a 500 instead of "unavailable, retry".
    server = RedisServer(tmp_path, appendonly=True, key_load_delay_us=300)
    server.start()
    try:
        filler = pipeline_to(server.url)
        assert await filler.execute("EVAL", "for i = 1, 10000 do redis.call('SET', 'k' .. i, i) end", 0) is None
        await filler.close()
        server.stop()
        server.start(while_loading=True)  # about 3 s of LOADING
        batched = pipeline_to(server.url)
        with pytest.raises(redis.exceptions.BusyLoadingError):
            await batched.execute("GET", "k1")
        await batched.close()
    finally:
        server.stop()


async def test_a_hung_redis_times_out_every_waiting_caller(tmp_path: Path) -> None:
    server = RedisServer(tmp_path)
    server.start()
    try:
        batched = pipeline_to(server.url, socket_timeout=0.5)
        assert await batched.execute("PING") == "PONG"
        os.kill(server.pid, signal.SIGSTOP)
        try:
            started = time.monotonic()
            outcomes = await asyncio.gather(*(batched.execute("PING") for _ in range(5)), return_exceptions=True)
            waited = time.monotonic() - started
        finally:
            os.kill(server.pid, signal.SIGCONT)
        assert all(isinstance(outcome, redis.exceptions.TimeoutError) for outcome in outcomes)
        assert 0.4 < waited < 1.5
        assert await batched.execute("PING") == "PONG"  # on a fresh connection
        await batched.close()
    finally:
        server.stop()


async def test_a_steady_stream_of_replies_is_not_taken_for_a_hang(redis_url: str) -> None:
    """The read timeout is about replies stopping, not about a busy pipe: commands keep flowing
    for three timeouts and none fails."""
    batched = pipeline_to(redis_url, socket_timeout=0.2)
    deadline = time.monotonic() + 0.6
    answered = 0
    while time.monotonic() < deadline:
        await asyncio.gather(*(batched.execute("PING") for _ in range(10)))
        answered += 10
        await asyncio.sleep(0.01)
    assert answered >= 200
    await batched.close()


async def test_close_lets_commands_already_sent_finish(redis_url: str, raw_redis: Redis) -> None:
    key = f"auto-{uuid.uuid4().hex}"
    batched = pipeline_to(redis_url)
    assert await batched.execute("PING") == "PONG"
    pending = [asyncio.create_task(batched.execute("RPUSH", key, n)) for n in range(50)]
    await asyncio.sleep(0)
    await batched.close()
    assert [task.result() for task in pending] == list(range(1, 51))
    assert await raw_redis.llen(key) == 50


async def test_execute_many_answers_in_order_and_raises_the_first_error(redis_url: str) -> None:
    key = f"auto-{uuid.uuid4().hex}"
    batched = pipeline_to(redis_url)
    assert await batched.execute_many(("SET", key, 1), ("INCR", key), ("GET", key)) == ["OK", 2, "2"]
    with pytest.raises(redis.exceptions.ResponseError, match="WRONGTYPE"):
        await batched.execute_many(("RPUSH", key + ":list", "x"), ("INCR", key + ":list"), ("INCR", key))
    assert await batched.execute("GET", key) == "3"  # the command after the error ran too
    await batched.close()


async def test_an_interrupted_blocking_read_goes_with_its_connection(redis_url: str) -> None:
    """Its reply would come only when the block ends, ahead of every later reply on that connection."""
    batched = pipeline_to(redis_url, socket_timeout=10)
    read = asyncio.create_task(batched.execute_many(("BLPOP", f"auto-{uuid.uuid4().hex}", 5)))
    await asyncio.sleep(0.1)
    read.cancel()
    with pytest.raises(asyncio.CancelledError):
        await read
    batched.abort()
    started = time.monotonic()
    assert await batched.execute("PING") == "PONG"
    assert time.monotonic() - started < 1.0
    await batched.close()


async def test_a_reply_that_arrived_during_a_stalled_loop_is_not_taken_for_a_hang(redis_url: str) -> None:
    """After a long stall the read timeout's timer can run before the reader task has parsed the
    reply that came meanwhile; that reply is progress, not a hang."""
    batched = pipeline_to(redis_url, socket_timeout=0.2)
    assert await batched.execute("PING") == "PONG"
    await asyncio.sleep(0.3)  # the PING's read timeout has run out: the next write arms a fresh one
    link = batched._link
    reply = link.send(("ECHO", "late"))
    link._write()  # on the wire now, and the read timeout armed
    time.sleep(0.5)  # noqa: ASYNC251 - the loop stalls on purpose: the reply arrives, the timeout expires
    assert await reply == "late"
    await batched.close()
