"""Departures against a real redis-server: a queued customer who stays away past the grace period
is abandoned (and leaves the queue), one who came back or is already with an agent is not, and a
customer who left again is judged by the newer departure."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from handoff.departures import Departures, abandon_departed, record_departure
from handoff.models import ABANDONED, ASSIGNED, QUEUED
from handoff.store import HandoffStore
from tests.handoff.conftest import FakeClock, StoreFactory

pytestmark = pytest.mark.asyncio
GRACE = 120.0


@pytest_asyncio.fixture(loop_scope="function")
async def clocked_store(make_store: StoreFactory, clock: FakeClock) -> HandoffStore:
    return make_store(clock=clock)


@pytest_asyncio.fixture(loop_scope="function")
async def departures(redis_url: str, clocked_store: HandoffStore, clock: FakeClock) -> AsyncIterator[Departures]:
    book = Departures(redis_url, clocked_store.keys, clock=clock)
    yield book
    await book.close()


async def queue(store: HandoffStore, *conversation_ids: str) -> None:
    for conversation_id in conversation_ids:
        assert (await store.request_handoff(conversation_id, {"reason": "frustration"}, 2, "handoff_socketio")).ok


async def test_a_customer_away_past_the_grace_period_is_abandoned(
        clocked_store: HandoffStore, departures: Departures, clock: FakeClock) -> None:
    await queue(clocked_store, "gone", "still-here")
    await departures.left("gone")
    clock.advance(GRACE - 1)
    assert await abandon_departed(clocked_store, departures, GRACE) == []
    clock.advance(2)
    assert await abandon_departed(clocked_store, departures, GRACE) == ["gone"]
    assert (await clocked_store.get_state("gone")).mode == ABANDONED
    assert [entry.conversation_id for entry in await clocked_store.list_queue()] == ["still-here"]
    assert "ticket_abandoned" in [event.type for event in await clocked_store.read_events()]
    assert await departures.away_since("gone") is None  # swept once


async def test_a_customer_who_came_back_keeps_their_place(
        clocked_store: HandoffStore, departures: Departures, clock: FakeClock) -> None:
    await queue(clocked_store, "reloaded")
    await departures.left("reloaded")
    clock.advance(5)
    await departures.back("reloaded")
    clock.advance(GRACE * 2)
    assert await abandon_departed(clocked_store, departures, GRACE) == []
    assert (await clocked_store.get_state("reloaded")).mode == QUEUED


async def test_a_customer_with_an_agent_is_left_to_the_agent(
        clocked_store: HandoffStore, departures: Departures, clock: FakeClock) -> None:
    await queue(clocked_store, "chatting")
    assert (await clocked_store.claim("chatting", "alice", 3)).ok
    await departures.left("chatting")
    clock.advance(GRACE + 1)
    assert await abandon_departed(clocked_store, departures, GRACE) == []
    assert (await clocked_store.get_state("chatting")).mode == ASSIGNED
    assert await departures.away_since("chatting") is None


async def test_a_newer_departure_is_not_forgotten_with_the_older_one(
        clocked_store: HandoffStore, departures: Departures, clock: FakeClock) -> None:
    await departures.left("twice")
    first = await departures.away_since("twice")
    assert first == clock.now
    clock.advance(30)
    await departures.left("twice")  # back and gone again in between
    await departures.forget("twice", first)
    assert await departures.away_since("twice") == clock.now


async def test_only_customers_waiting_for_an_agent_are_recorded(
        clocked_store: HandoffStore, departures: Departures, clock: FakeClock) -> None:
    await queue(clocked_store, "waiting")
    await record_departure(clocked_store, departures, "waiting")
    await record_departure(clocked_store, departures, "bot-only")
    assert await departures.away_since("waiting") == clock.now
    assert await departures.away_since("bot-only") is None


async def test_one_sweep_takes_every_due_departure_batch_by_batch(
        clocked_store: HandoffStore, departures: Departures, clock: FakeClock) -> None:
    gone = [f"gone-{n}" for n in range(5)]
    await queue(clocked_store, *gone)
    for conversation_id in gone:
        await departures.left(conversation_id)
    clock.advance(GRACE + 1)
    assert sorted(await abandon_departed(clocked_store, departures, GRACE, batch=2)) == gone
