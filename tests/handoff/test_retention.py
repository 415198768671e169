"""Retention: a closed conversation's keys (back with the bot, or abandoned) expire after the
retention period, and those of a conversation a person has stay (docs/security.md "Retention")."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from redis.asyncio import Redis

from handoff.agent_service.side_store import PendingSync, ServiceStore
from handoff.care_store import RATING_DUE_SECONDS, CareStore
from handoff.models import INBOX, OUTBOX
from handoff.store import HandoffStore
from tests.handoff.conftest import StoreFactory

pytestmark = pytest.mark.asyncio

DAY = 86_400
RETENTION = 3 * DAY  # shorter than the week a rating stays due, so that one is cut to it


@pytest_asyncio.fixture
async def store(make_store: StoreFactory) -> HandoffStore:
    return make_store(retention_seconds=RETENTION)


@pytest_asyncio.fixture
async def care(redis_url: str, store: HandoffStore) -> AsyncIterator[CareStore]:
    care_store = CareStore(redis_url, store.keys)
    yield care_store
    await care_store.close()


def new_conversation() -> str:
    return f"kept-{uuid.uuid4().hex[:10]}"


async def with_alice(store: HandoffStore, conversation_id: str) -> None:
    """Handed off, claimed by alice, and a message each way."""
    assert (await store.request_handoff(conversation_id, {"reason": "frustration"}, 3, "rest")).ok
    assert (await store.claim(conversation_id, "alice", 3)).ok
    await store.append_message(conversation_id, INBOX, f"m-{uuid.uuid4().hex}", "customer", "hi")
    await store.append_message(conversation_id, OUTBOX, f"a-{uuid.uuid4().hex}", "alice", "hello")


async def resolved(store: HandoffStore, care: CareStore, conversation_id: str) -> None:
    """Archived and resolved the way the agent service does it, then rated by the customer."""
    await care.archive(await store.get_state(conversation_id), "alice", "Alice Martin")
    assert (await store.resolve(conversation_id, "alice")).ok
    assert await care.rate(conversation_id, 5)


async def ttls(raw_redis: Redis, keys: list[str]) -> list[int]:
    return [await raw_redis.ttl(key) for key in keys]


def about(seconds: int) -> range:
    """Expiries that were set to `seconds` a moment ago."""
    return range(seconds - 5, seconds + 1)


async def test_every_record_of_a_resolved_conversation_expires_after_the_retention_period(
        store: HandoffStore, care: CareStore, raw_redis: Redis) -> None:
    conversation_id = new_conversation()
    await with_alice(store, conversation_id)
    records = store.keys.records(conversation_id)
    await care.archive(await store.get_state(conversation_id), "alice", "Alice Martin")
    assert await ttls(raw_redis, records[:-1]) == [-1, -1, -1, -1, -1], "kept while alice has it"
    assert (await store.resolve(conversation_id, "alice")).ok
    assert await care.rate(conversation_id, 5)
    assert await raw_redis.exists(*records) == len(records)
    assert all(ttl in about(RETENTION) for ttl in await ttls(raw_redis, records))


async def test_a_rating_stays_due_no_longer_than_the_records_it_points_to(
        store: HandoffStore, care: CareStore, make_store: StoreFactory, raw_redis: Redis) -> None:
    conversation_id = new_conversation()
    await with_alice(store, conversation_id)
    await care.archive(await store.get_state(conversation_id), "alice", "Alice Martin")
    assert await raw_redis.ttl(store.keys.rating_due(conversation_id)) in about(RATING_DUE_SECONDS)
    assert (await store.resolve(conversation_id, "alice")).ok
    assert await raw_redis.ttl(store.keys.rating_due(conversation_id)) in about(RETENTION)

    long_kept = make_store(retention_seconds=90 * DAY)  # never lengthened to the retention period
    other = new_conversation()
    await with_alice(long_kept, other)
    await care.archive(await long_kept.get_state(other), "alice", "Alice Martin")
    assert (await long_kept.resolve(other, "alice")).ok
    assert await raw_redis.ttl(long_kept.keys.rating_due(other)) in about(RATING_DUE_SECONDS)


async def test_a_conversation_handed_off_again_keeps_its_records_until_it_is_closed_again(
        store: HandoffStore, care: CareStore, raw_redis: Redis) -> None:
    conversation_id = new_conversation()
    await with_alice(store, conversation_id)
    await resolved(store, care, conversation_id)
    records = store.keys.records(conversation_id)
    assert (await store.request_handoff(conversation_id, {"reason": "explicit_request"}, 3, "rest")).ok
    assert await ttls(raw_redis, records) == [-1] * len(records)
    assert (await store.claim(conversation_id, "alice", 3)).ok
    assert await ttls(raw_redis, records) == [-1] * len(records)
    await resolved(store, care, conversation_id)
    assert all(ttl in about(RETENTION) for ttl in await ttls(raw_redis, records))


async def test_an_abandoned_conversation_is_closed_and_expires_like_a_resolved_one(
        store: HandoffStore, raw_redis: Redis) -> None:
    talking = new_conversation()
    await with_alice(store, talking)
    waiting = new_conversation()
    assert (await store.request_handoff(waiting, {"reason": "frustration"}, 3, "rest")).ok
    await store.append_message(waiting, INBOX, "w1", "customer", "anyone?")
    for conversation_id, written in ((talking, 4), (waiting, 3)):  # state, streams, message counter
        assert (await store.abandon(conversation_id)).ok
        present = [key for key in store.keys.records(conversation_id) if await raw_redis.exists(key)]
        assert len(present) == written
        assert all(ttl in about(RETENTION) for ttl in await ttls(raw_redis, present))
    await raw_redis.expire(store.keys.state(waiting), 60)
    assert (await store.return_to_bot(waiting)).ok  # the customer came back: kept from now on
    assert await raw_redis.ttl(store.keys.state(waiting)) in about(RETENTION)


async def test_a_message_into_a_closed_conversation_goes_when_its_records_go(
        store: HandoffStore, raw_redis: Redis) -> None:
    """E.g. the welcome-back after a resolve where alice never wrote: the outbox starts then."""
    conversation_id = new_conversation()
    assert (await store.request_handoff(conversation_id, {"reason": "frustration"}, 3, "rest")).ok
    assert (await store.claim(conversation_id, "alice", 3)).ok
    assert (await store.resolve(conversation_id, "alice")).ok
    await raw_redis.expire(store.keys.state(conversation_id), 1000)
    await store.append_message(conversation_id, OUTBOX, "welcome-back", "bot", "Hi again")
    assert await raw_redis.ttl(store.keys.stream(conversation_id, OUTBOX)) in about(1000)
    assert await raw_redis.ttl(store.keys.sequence(conversation_id)) in about(1000)

    never_handed_off = new_conversation()
    await store.append_message(never_handed_off, OUTBOX, "note", "bot", "Hello")
    assert await raw_redis.ttl(store.keys.stream(never_handed_off, OUTBOX)) in about(RETENTION)


async def test_a_ticket_archived_into_a_conversation_that_closed_meanwhile_goes_with_it(
        store: HandoffStore, care: CareStore, raw_redis: Redis) -> None:
    """The resolve that follows is refused and discards it; until then it must not be kept for good."""
    conversation_id = new_conversation()
    await with_alice(store, conversation_id)
    state = await store.get_state(conversation_id)
    assert (await store.abandon(conversation_id)).ok
    await care.archive(state, "alice", "Alice Martin")
    assert await raw_redis.ttl(store.keys.closed_tickets(conversation_id)) in about(RETENTION)
    assert await raw_redis.ttl(store.keys.rating_due(conversation_id)) in about(RETENTION)


async def test_a_rating_given_while_the_conversation_is_open_again_is_kept_with_it(
        store: HandoffStore, care: CareStore, raw_redis: Redis) -> None:
    conversation_id = new_conversation()
    await with_alice(store, conversation_id)
    await care.archive(await store.get_state(conversation_id), "alice", "Alice Martin")
    assert (await store.resolve(conversation_id, "alice")).ok
    assert (await store.request_handoff(conversation_id, {"reason": "explicit_request"}, 3, "rest")).ok
    assert await care.rate(conversation_id, 4)  # the week to rate the first handoff is not over
    assert await raw_redis.ttl(store.keys.satisfaction(conversation_id)) == -1


async def test_a_pending_tracker_sync_is_given_up_after_the_retention_period(
        redis_url: str, store: HandoffStore, raw_redis: Redis) -> None:
    side = ServiceStore(redis_url, store.keys, retention_seconds=RETENTION)
    try:
        conversation_id = new_conversation()
        await side.save_pending(PendingSync(conversation_id, "alice", "Alice Martin", "rest", since=1.0,
                                            until_seq=2, version=3), due_at=10.0)
        assert await raw_redis.ttl(store.keys.pending_sync(conversation_id)) in about(RETENTION)
    finally:
        await side.close()


# --- the keys without expiry stay small (docs/security.md "Retention") ---------------------------

async def test_both_event_feeds_are_capped(make_store: StoreFactory, raw_redis: Redis) -> None:
    store = make_store(events_maxlen=10)
    conversation_id = new_conversation()
    await with_alice(store, conversation_id)
    for n in range(300):
        await store.append_message(conversation_id, INBOX, f"m{n}", "customer", "still there?")
        await store.append_message(conversation_id, OUTBOX, f"a{n}", "alice", "yes")
    # Trimming is approximate (whole radix-tree nodes of 100 entries), but it happens.
    assert 10 <= await raw_redis.xlen(store.keys.events) < 300
    assert 10 <= await raw_redis.xlen(store.keys.outbox_events) < 300


async def test_an_agent_who_closed_every_chat_leaves_no_chat_set(store: HandoffStore, raw_redis: Redis) -> None:
    resolved_one, abandoned_one, handed_on = new_conversation(), new_conversation(), new_conversation()
    for conversation_id in (resolved_one, abandoned_one, handed_on):
        await with_alice(store, conversation_id)
    assert (await store.resolve(resolved_one, "alice")).ok
    assert (await store.abandon(abandoned_one)).ok
    assert (await store.transfer(handed_on, "alice", "bob")).ok
    assert not await raw_redis.exists(store.keys.agent_chats("alice"))
