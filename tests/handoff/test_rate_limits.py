"""The rate limiter against a real Redis: a burst of `count`, then one every `seconds / count`,
shared by every process, with keys that expire; with Redis unreachable each process counts on its
own (bounded) and never refuses everyone. Also the limits a customer's actions count against and
the cap on waiting REST reads."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from redis.asyncio import Redis

from handoff.channels.customer_limits import (
    MESSAGES,
    SESSIONS,
    CustomerLimits,
    LongPollSlots,
    address_subject,
)
from handoff.channels.refusals import RateLimited, apology
from handoff.rate_limits import LocalCounts, RateLimiter, retry_after_seconds
from handoff.settings import HandoffSettings, RateLimit
from handoff.store_scripts import Keys
from tests.free_port import free_port


class ManualClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def limiter_on(url: str, **options: object) -> tuple[RateLimiter, Keys]:
    keys = Keys(f"test-{uuid.uuid4().hex[:10]}")
    return RateLimiter(Redis.from_url(url, decode_responses=True, socket_connect_timeout=0.5), keys,
                       **{"max_local_keys": 100, **options}), keys  # type: ignore[arg-type]


@pytest.mark.asyncio
async def test_a_burst_of_count_passes_then_one_every_seconds_over_count(redis_url: str, raw_redis: Redis) -> None:
    limiter, keys = limiter_on(redis_url)
    limit = RateLimit(count=5, seconds=10)
    assert [await limiter.hit("message:conversation", "c1", limit) for _ in range(5)] == [0.0] * 5
    wait = await limiter.hit("message:conversation", "c1", limit)
    assert 1.9 <= wait <= 2.0  # one more every 10 / 5 seconds
    assert await limiter.hit("message:conversation", "c2", limit) == 0.0  # another conversation has its own
    assert await limiter.hit("message:address", "c1", limit) == 0.0  # another scope too
    ttl = await raw_redis.pttl(keys.rate_limit("message:conversation", "c1"))
    assert 9_000 < ttl <= 10_000  # gone once the allowance is full again


@pytest.mark.asyncio
async def test_the_allowance_comes_back_with_time(redis_url: str) -> None:
    limiter, _ = limiter_on(redis_url)
    limit = RateLimit(count=2, seconds=0.4)
    assert [await limiter.hit("typing:conversation", "c", limit) for _ in range(3)][-1] > 0
    await asyncio.sleep(0.25)
    assert await limiter.hit("typing:conversation", "c", limit) == 0.0
    assert await limiter.hit("typing:conversation", "c", limit) > 0


@pytest.mark.asyncio
async def test_processes_share_one_count_in_redis(redis_url: str) -> None:
    first, keys = limiter_on(redis_url)
    second = RateLimiter(Redis.from_url(redis_url, decode_responses=True), keys, 100)
    limit = RateLimit(count=4, seconds=60)
    results = await asyncio.gather(*(limiter.hit("session:address", "a", limit)
                                     for limiter in (first, second) * 3))
    assert sorted(wait > 0 for wait in results) == [False] * 4 + [True] * 2


@pytest.mark.asyncio
async def test_with_redis_unreachable_each_process_counts_on_its_own() -> None:
    clock = ManualClock()
    limiter, _ = limiter_on(f"redis://127.0.0.1:{free_port()}/0", clock=clock)
    limit = RateLimit(count=3, seconds=30)
    assert [await limiter.hit("message:conversation", "c1", limit) for _ in range(4)] == [0.0, 0.0, 0.0, 10.0]
    assert await limiter.hit("message:conversation", "c2", limit) == 0.0  # nobody else is refused
    clock.now += 10
    assert await limiter.hit("message:conversation", "c1", limit) == 0.0


def test_the_count_in_memory_is_bounded_and_forgets_the_least_recently_seen() -> None:
    clock = ManualClock()
    counts, limit = LocalCounts(100, clock), RateLimit(count=1, seconds=60)
    assert counts.hit("first", limit) == 0.0 and counts.hit("first", limit) > 0
    for number in range(150):
        assert counts.hit(f"subject-{number}", limit) == 0.0
    assert len(counts) == 100
    assert counts.hit("first", limit) == 0.0  # forgotten: allowed again rather than kept forever


@pytest.mark.asyncio
async def test_customer_actions_over_a_limit_are_refused_with_the_seconds_to_wait(redis_url: str) -> None:
    limiter, _ = limiter_on(redis_url)
    settings = HandoffSettings(conversation_message_limit=RateLimit(count=2, seconds=30),
                               address_session_limit=RateLimit(count=1, seconds=5))
    limits = CustomerLimits(limiter, settings)
    await limits.conversation(MESSAGES, "c1")
    await limits.conversation(MESSAGES, "c1")
    with pytest.raises(RateLimited) as refused:
        await limits.conversation(MESSAGES, "c1")
    assert (refused.value.status, refused.value.retry_after) == (429, 15)
    assert refused.value.error == "too many messages; please wait 15 s and try again"
    assert apology(refused.value) == "Sorry, too many messages; please wait 15 s and try again."
    await limits.address(SESSIONS, "203.0.113.9")
    with pytest.raises(RateLimited, match="too many sessions"):
        await limits.address(SESSIONS, "203.0.113.9")
    await limits.address(SESSIONS, "203.0.113.10")


def test_no_client_address_is_written_to_redis() -> None:
    subject = address_subject("203.0.113.9")
    assert "203" not in subject and len(subject) == 32 and subject == address_subject("203.0.113.9")


def test_retry_after_is_whole_seconds_and_never_zero() -> None:
    assert [retry_after_seconds(wait) for wait in (0.001, 1.0, 1.2, 14.9)] == [1, 1, 2, 15]


def test_waiting_reads_are_capped_per_address_and_per_process() -> None:
    slots = LongPollSlots(per_address=2, per_process=3)
    with slots.slot("a"), slots.slot("a"):
        with pytest.raises(RateLimited) as refused, slots.slot("a"):
            pass
        assert (refused.value.status, refused.value.retry_after) == (429, 1)
        with slots.slot("b"), pytest.raises(RateLimited), slots.slot("c"):
            pass
    with slots.slot("a"), slots.slot("a"):  # every slot was given back
        pass
    assert not slots.held

