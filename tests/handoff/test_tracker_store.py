"""The append-only tracker store against a real Redis: trackers round-trip, saving appends only new
events, loading returns the current session, and a concurrent writer is refused."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import pytest
import pytest_asyncio
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
from redis.asyncio import Redis

from handoff.tracker_store import AppendOnlyRedisTrackerStore, TrackerConflict
from tests.model_paths import DOMAIN_DIR

pytestmark = pytest.mark.asyncio

DOMAIN = Domain.load(str(DOMAIN_DIR))


@pytest_asyncio.fixture(loop_scope="function")
async def tracker_store(redis_url: str) -> AsyncIterator[AppendOnlyRedisTrackerStore]:
    url = urlsplit(redis_url)
    store = AppendOnlyRedisTrackerStore(DOMAIN, host=url.hostname, port=url.port, password=url.password,
                                        key_prefix=f"t{uuid.uuid4().hex[:8]}", record_exp=3600)
    yield store
    await store.close()


def turn(text: str, answer: str) -> list:
    return [UserUttered(text, {"name": "greet", "confidence": 0.9}), ActionExecuted("utter_greet"),
            BotUttered(answer), ActionExecuted("action_listen")]


def session_start() -> list:
    return [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")]


async def stored_events(store: AppendOnlyRedisTrackerStore, raw_redis: Redis, sender: str) -> int:
    return await raw_redis.llen(store._keys(sender)[0])


async def test_a_tracker_round_trips_and_only_new_events_are_appended(
        tracker_store: AppendOnlyRedisTrackerStore, raw_redis: Redis) -> None:
    tracker = await tracker_store.get_or_create_tracker("anna")
    for event in [*session_start(), *turn("hi", "Hello!"), SlotSet("order_number", "KL-100001")]:
        tracker.update(event)
    await tracker_store.save(tracker)
    for n in range(3):
        loaded = await tracker_store.retrieve("anna")
        assert loaded is not None
        for event in turn(f"question {n}", f"answer {n}"):
            loaded.update(event)
        await tracker_store.save(loaded)
    final = await tracker_store.retrieve("anna")
    assert final is not None
    # Stored: the new tracker's action_listen, then the session; loaded: the session only.
    assert len(final.events) == 3 + 4 + 1 + 12
    assert await stored_events(tracker_store, raw_redis, "anna") == 1 + len(final.events)
    assert final.get_slot("order_number") == "KL-100001"
    assert [e.text for e in final.events if isinstance(e, UserUttered)] == ["hi", "question 0", "question 1",
                                                                           "question 2"]
    assert 0 < await raw_redis.ttl(tracker_store._keys("anna")[0]) <= 3600


async def test_loading_returns_the_current_session_and_the_full_tracker_has_them_all(
        tracker_store: AppendOnlyRedisTrackerStore) -> None:
    tracker = await tracker_store.get_or_create_tracker("ben")
    for event in [*session_start(), *turn("first visit", "hi")]:
        tracker.update(event)
    await tracker_store.save(tracker)
    later = await tracker_store.retrieve("ben")
    assert later is not None
    for event in [*session_start(), *turn("back again", "welcome back")]:
        later.update(event)
    await tracker_store.save(later)
    current = await tracker_store.retrieve("ben")
    full = await tracker_store.retrieve_full_tracker("ben")
    assert current is not None and full is not None
    assert [e.text for e in current.events if isinstance(e, UserUttered)] == ["back again"]
    assert [e.text for e in full.events if isinstance(e, UserUttered)] == ["first visit", "back again"]
    # The next turn of the new session appends after it, not after the first session.
    for event in turn("one more", "sure"):
        current.update(event)
    await tracker_store.save(current)
    again = await tracker_store.retrieve("ben")
    assert again is not None
    assert [e.text for e in again.events if isinstance(e, UserUttered)] == ["back again", "one more"]


async def test_a_writer_that_raced_another_is_refused(tracker_store: AppendOnlyRedisTrackerStore) -> None:
    tracker = await tracker_store.get_or_create_tracker("cara")
    await tracker_store.save(tracker)
    first, second = await tracker_store.retrieve("cara"), await tracker_store.retrieve("cara")
    assert first is not None and second is not None
    for event in turn("mine", "ok"):
        first.update(event)
    await tracker_store.save(first)
    for event in turn("theirs", "ok"):
        second.update(event)
    original = tracker_store._append

    async def append_after_a_rival(keys: list[str], args: list) -> int:
        await tracker_store.redis.rpush(keys[0], '{"event": "action", "name": "action_listen"}')
        return await original(keys=keys, args=args)

    tracker_store._append = append_after_a_rival
    with pytest.raises(TrackerConflict):
        await tracker_store.save(second)


async def test_unknown_conversations_and_keys(tracker_store: AppendOnlyRedisTrackerStore) -> None:
    assert await tracker_store.retrieve("nobody") is None
    assert await tracker_store.retrieve_full_tracker("nobody") is None
    for sender in ("x1", "x:2", "x{3}"):
        await tracker_store.save(await tracker_store.get_or_create_tracker(sender))
    assert sorted(await tracker_store.keys()) == ["x1", "x:2", "x{3}"]
