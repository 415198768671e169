"""Closed tickets, satisfaction ratings and agent names in Redis (`handoff/care_store.py`)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from handoff.care_store import CareStore
from handoff.redis_connections import RedisTimeouts
from handoff.store import HandoffStore, StoreUnavailable
from handoff.store_scripts import Keys

pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture
async def care(redis_url: str, store: HandoffStore) -> AsyncIterator[CareStore]:
    care_store = CareStore(redis_url, store.keys)
    yield care_store
    await care_store.close()


async def assigned(store: HandoffStore, reason: str = "frustration") -> str:
    conversation_id = f"care-{uuid.uuid4().hex[:10]}"
    assert (await store.request_handoff(conversation_id, {"reason": reason}, 3, "socketio")).ok
    assert (await store.claim(conversation_id, "alice", 3)).ok
    return conversation_id


async def test_an_archived_handoff_is_rateable_once(store: HandoffStore, care: CareStore) -> None:
    conversation_id = await assigned(store)
    assert not await care.rate(conversation_id, 4), "nothing is due before a resolve"
    await care.archive(await store.get_state(conversation_id), "alice", "Alice Martin")
    assert await care.rating_due(conversation_id)
    assert await care.rate(conversation_id, 4)
    assert not await care.rating_due(conversation_id)
    assert not await care.rate(conversation_id, 1)
    (record,) = await care.closed_tickets(conversation_id)
    assert (record["agent_name"], record["satisfaction"], record["ticket"]["reason"]) == ("Alice Martin", 4,
                                                                                        "frustration")


async def test_each_handoff_of_a_conversation_is_kept_with_its_own_rating(
        store: HandoffStore, care: CareStore) -> None:
    conversation_id = await assigned(store, "explicit_request")
    await care.archive(await store.get_state(conversation_id), "alice", "Alice Martin")
    assert (await store.resolve(conversation_id, "alice")).ok
    assert await care.rate(conversation_id, 2)
    assert (await store.request_handoff(conversation_id, {"reason": "frustration"}, 3, "socketio")).ok
    assert (await store.claim(conversation_id, "alice", 3)).ok
    await care.archive(await store.get_state(conversation_id), "alice", "Alice Martin")
    records = await care.closed_tickets(conversation_id)
    assert [(r["ticket"]["reason"], r["satisfaction"]) for r in records] == [("explicit_request", 2),
                                                                            ("frustration", None)]


async def test_discard_undoes_an_archive(store: HandoffStore, care: CareStore) -> None:
    conversation_id = await assigned(store)
    handoff_id = await care.archive(await store.get_state(conversation_id), "alice", "Alice Martin")
    await care.discard(conversation_id, handoff_id)
    assert await care.closed_tickets(conversation_id) == []
    assert not await care.rate(conversation_id, 3)


@pytest.mark.parametrize("rating", [0, 6, -1])
async def test_a_rating_outside_one_to_five_is_refused(care: CareStore, rating: int) -> None:
    with pytest.raises(ValueError):
        await care.rate("any", rating)


async def test_agent_names_fall_back_to_the_id(care: CareStore) -> None:
    await care.publish_names([("alice", "Alice Martin")])
    assert await care.agent_name("alice") == "Alice Martin"
    assert await care.agent_name("nobody-published") == "nobody-published"


async def test_the_roster_replaces_the_names_of_agents_no_longer_configured(care: CareStore) -> None:
    await care.publish_names([("alice", "Alice Martin"), ("bob", "Bob Stone")])
    await care.publish_roster([("alice", "Alice Martin-Lee"), ("carol", "Carol King")])
    names = [await care.agent_name(agent) for agent in ("alice", "bob", "carol")]
    assert names == ["Alice Martin-Lee", "bob", "Carol King"]
    await care.publish_roster([])
    assert await care.agent_name("alice") == "alice"


async def test_an_unreachable_redis_is_store_unavailable() -> None:
    care = CareStore("redis://127.0.0.1:1/0", Keys("care"), RedisTimeouts(connect_seconds=0.2))
    try:
        with pytest.raises(StoreUnavailable):
            await care.rating_due("any")
    finally:
        await care.close()
