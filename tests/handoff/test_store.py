"""The handoff store against a real redis-server: transitions, races, queue, streams, events,
presence, unavailability and the one-hash-tag-per-atomic-step rule."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from redis.asyncio import Redis

from handoff.models import (
    ABANDONED,
    ASSIGNED,
    BOT,
    INBOX,
    OUTBOX,
    OUTBOX_FEED,
    QUEUED,
    WAITING_OFFLINE,
    AppendResult,
    ChatMessage,
    ClaimResult,
    ConversationState,
    HandoffEvent,
    QueueEntry,
    Ticket,
)
from handoff.store import HandoffStore, StoreUnavailable
from handoff.store_scripts import Keys, hash_tag, queue_score, split_score
from tests.redis_server import RedisServer

if TYPE_CHECKING:
    from tests.handoff.conftest import FakeClock, StoreFactory

pytestmark = pytest.mark.asyncio


def ticket(conversation_id: str, **fields: object) -> Ticket:
    return Ticket.from_dict({"conversation_id": conversation_id, "reason": "explicit_request",
                             "summary": "wants a person", **fields})


async def queued(store: HandoffStore, conversation_id: str, priority: int = 1) -> None:
    result = await store.request_handoff(conversation_id, ticket(conversation_id), priority, "rest")
    assert result.ok, result


async def assigned(store: HandoffStore, conversation_id: str, agent_id: str) -> None:
    await queued(store, conversation_id)
    result = await store.claim(conversation_id, agent_id, max_concurrent=10)
    assert result.ok, result


async def event_types(store: HandoffStore) -> list[str]:
    return [event.type for event in await store.read_events()]


# --- transitions ------------------------------------------------------------------------------

async def test_unknown_conversation_is_in_bot_mode(store: HandoffStore) -> None:
    state = await store.get_state("never-seen")
    assert (state.mode, state.version, state.agent_id, state.ticket) == (BOT, 0, None, None)


async def test_request_handoff_queues_with_ticket_position_and_estimate(
        make_store: StoreFactory, clock: FakeClock) -> None:
    store = make_store(clock=clock)
    await queued(store, "c0", priority=1)
    clock.advance(5)
    result = await store.request_handoff(
        "c1", {"reason": "frustration", "frustration": 0.9,
               "intents": [{"intent": "complaint", "confidence": 0.8}]}, 1, "socketio")
    assert result.ok and result.mode == QUEUED and result.position == 2
    assert result.estimated_wait_seconds == 2 * store.config.avg_handling_seconds
    state = await store.get_state("c1")
    assert state.ticket == Ticket(conversation_id="c1", reason="frustration", frustration=0.9,
                                  intents=[{"intent": "complaint", "confidence": 0.8}])
    assert (state.channel, state.priority, state.version) == ("socketio", 1, 1)
    assert state.queued_at == state.updated_at == clock.now


async def test_wait_estimate_has_a_floor(make_store: StoreFactory) -> None:
    store = make_store(avg_handling_seconds=5.0, min_wait_seconds=60.0)
    assert store.estimate_wait(1) == 60.0
    assert store.estimate_wait(20) == 100.0


async def test_request_is_refused_unless_in_bot_mode_and_keeps_the_queue_place(
        make_store: StoreFactory, clock: FakeClock) -> None:
    store = make_store(clock=clock)
    await queued(store, "first", priority=1)
    clock.advance(10)
    await queued(store, "second", priority=1)
    clock.advance(10)
    again = await store.request_handoff("first", ticket("first"), 1, "rest")
    assert (again.ok, again.reason, again.mode, again.position) == (False, "wrong_mode", QUEUED, None)
    assert [entry.conversation_id for entry in await store.list_queue()] == ["first", "second"]
    await store.claim("first", "alice", 5)
    refused = await store.request_handoff("first", ticket("first"), 3, "rest")
    assert (refused.ok, refused.mode) == (False, ASSIGNED)
    assert [entry.conversation_id for entry in await store.list_queue()] == ["second"]


async def test_priority_must_be_in_range(store: HandoffStore) -> None:
    for priority in (-1, 101):
        with pytest.raises(ValueError):
            await store.request_handoff("c", ticket("c"), priority, "rest")


async def test_claim_assigns_and_takes_the_conversation_out_of_the_queue(
        make_store: StoreFactory, clock: FakeClock) -> None:
    store = make_store(clock=clock)
    await queued(store, "c")
    clock.advance(7)
    result = await store.claim("c", "alice", max_concurrent=3)
    assert isinstance(result, ClaimResult)
    assert (result.ok, result.mode, result.owner, result.active_chats) == (True, ASSIGNED, "alice", 1)
    assert result.state.ticket is not None and result.state.ticket.summary == "wants a person"
    assert (result.state.version, result.state.assigned_at, result.state.updated_at) == (2, clock.now, clock.now)
    assert result.state.queued_at == clock.now - 7
    assert await store.list_queue() == []
    assert await store.queue_position("c") is None
    assert await store.agent_chats("alice") == ["c"]


async def test_claim_refusals_say_why_and_leak_no_slot(store: HandoffStore) -> None:
    not_queued = await store.claim("c", "alice", 3)
    assert (not_queued.ok, not_queued.reason, not_queued.mode) == (False, "wrong_mode", BOT)
    await assigned(store, "c", "alice")
    taken = await store.claim("c", "bob", 3)
    assert (taken.ok, taken.reason, taken.owner, taken.active_chats) == (False, "already_claimed", "alice", 0)
    again = await store.claim("c", "alice", 3)
    assert (again.ok, again.reason, again.owner, again.active_chats) == (False, "already_claimed", "alice", 1)
    assert await store.agent_chats("bob") == []
    assert await store.agent_chats("alice") == ["c"]


async def test_twenty_racing_claims_on_one_client_have_one_winner(store: HandoffStore) -> None:
    for round_number in range(5):
        conversation_id = f"race-{round_number}"
        await queued(store, conversation_id)
        results = await asyncio.gather(*(store.claim(conversation_id, f"agent-{n}", 3) for n in range(20)))
        winners = [result for result in results if result.ok]
        assert len(winners) == 1
        winner = winners[0].owner
        assert {(r.reason, r.owner) for r in results if not r.ok} == {("already_claimed", winner)}
        assert (await store.get_state(conversation_id)).version == 2
        held = await asyncio.gather(*(store.agent_chats(f"agent-{n}") for n in range(20)))
        assert [chats for chats in held if chats] == [[conversation_id]]
        await store.resolve(conversation_id, winner)


async def test_twenty_racing_claims_on_separate_connections_have_one_winner(make_store: StoreFactory) -> None:
    stores = [make_store() for _ in range(20)]
    await asyncio.gather(*(s.ping() for s in stores))  # every store holds its own open connection
    await queued(stores[0], "race")
    results = await asyncio.gather(*(s.claim("race", f"agent-{n}", 1) for n, s in enumerate(stores)))
    assert sum(result.ok for result in results) == 1
    winner = next(result.owner for result in results if result.ok)
    assert all(result.owner == winner for result in results)
    assert await stores[0].agent_chats(winner) == ["race"]


async def test_claim_refuses_an_agent_at_capacity(store: HandoffStore) -> None:
    for conversation_id in ("a", "b", "c"):
        await queued(store, conversation_id)
    assert (await store.claim("a", "alice", 2)).ok
    assert (await store.claim("b", "alice", 2)).ok
    full = await store.claim("c", "alice", 2)
    assert (full.ok, full.reason, full.mode, full.active_chats) == (False, "at_capacity", QUEUED, 2)
    assert await store.queue_position("c") == 1
    await store.resolve("a", "alice")
    assert (await store.claim("c", "alice", 2)).ok
    assert sorted(await store.agent_chats("alice")) == ["b", "c"]


async def test_a_leaked_chat_slot_is_swept_once_past_the_grace_period(
        make_store: StoreFactory, raw_redis: Redis, clock: FakeClock) -> None:
    store = make_store(clock=clock)
    # A claim that died between reserving the slot and flipping the conversation leaves this:
    await raw_redis.zadd(store.keys.agent_chats("alice"), {"ghost": clock.now})
    await queued(store, "real")
    young = await store.claim("real", "alice", 1)
    assert (young.ok, young.reason) == (False, "at_capacity")
    clock.advance(store.config.stale_grace_seconds + 1)
    assert (await store.claim("real", "alice", 1)).ok
    assert await store.agent_chats("alice") == ["real"]


async def test_transfer_only_by_the_owner_and_within_the_target_capacity(store: HandoffStore) -> None:
    await assigned(store, "c", "alice")
    await assigned(store, "busy", "carol")
    stranger = await store.transfer("c", "bob", "carol")
    assert (stranger.ok, stranger.reason, stranger.owner) == (False, "not_owner", "alice")
    itself = await store.transfer("c", "alice", "alice")
    assert (itself.ok, itself.reason) == (False, "same_agent")
    full = await store.transfer("c", "alice", "carol", max_concurrent=1)
    assert (full.ok, full.reason, full.owner) == (False, "at_capacity", "alice")
    moved = await store.transfer("c", "alice", "bob", max_concurrent=1)
    assert (moved.ok, moved.owner, moved.mode, moved.state.version) == (True, "bob", ASSIGNED, 3)
    assert (await store.agent_chats("alice"), await store.agent_chats("bob")) == ([], ["c"])
    assert await store.agent_chats("carol") == ["busy"]
    await queued(store, "waiting")
    unclaimed = await store.transfer("waiting", "alice", "bob")
    assert (unclaimed.ok, unclaimed.reason) == (False, "wrong_mode")
    assert await store.agent_chats("bob") == ["c"]


async def test_resolve_only_by_the_owner_returns_to_bot(store: HandoffStore) -> None:
    await queued(store, "c")
    early = await store.resolve("c", "alice")
    assert (early.ok, early.reason) == (False, "wrong_mode")
    await store.claim("c", "alice", 3)
    stranger = await store.resolve("c", "bob")
    assert (stranger.ok, stranger.reason, stranger.owner) == (False, "not_owner", "alice")
    done = await store.resolve("c", "alice")
    assert done.ok and done.state == ConversationState(
        conversation_id="c", mode=BOT, channel="rest", updated_at=done.state.updated_at, version=3)
    assert await store.agent_chats("alice") == []
    assert (await store.request_handoff("c", ticket("c"), 1, "rest")).ok  # can hand off again


async def test_abandon_from_every_waiting_mode_then_back_to_bot(store: HandoffStore) -> None:
    await queued(store, "q")
    await assigned(store, "a", "alice")
    assert (await store.request_handoff("o", ticket("o"), 1, "rest", agents_online=False)).ok
    for conversation_id in ("q", "a", "o"):
        result = await store.abandon(conversation_id)
        assert (result.ok, result.mode) == (True, ABANDONED)
    assert (await store.get_state("a")).agent_id == "alice"  # the console can still say whose it was
    assert await store.list_queue() == []
    assert await store.requeue_offline() == []
    assert await store.agent_chats("alice") == []
    twice = await store.abandon("q")
    assert (twice.ok, twice.reason) == (False, "wrong_mode")
    assert (await store.request_handoff("q", ticket("q"), 1, "rest")).reason == "wrong_mode"
    back = await store.return_to_bot("a")
    assert (back.ok, back.mode, back.owner, back.state.ticket) == (True, BOT, None, None)
    assert (await store.return_to_bot("a")).reason == "wrong_mode"
    assert (await store.abandon("never-seen")).reason == "wrong_mode"


async def test_offline_requests_wait_and_are_requeued_in_their_place(
        make_store: StoreFactory, clock: FakeClock) -> None:
    store = make_store(clock=clock)
    offline = await store.request_handoff("early", ticket("early"), 1, "rest", agents_online=False)
    assert (offline.ok, offline.mode, offline.position, offline.estimated_wait_seconds) == (
        True, WAITING_OFFLINE, None, None)
    clock.advance(5)
    await queued(store, "later", priority=1)
    assert [entry.conversation_id for entry in await store.list_queue()] == ["later"]
    assert (await store.claim("early", "alice", 3)).reason == "wrong_mode"
    assert await store.requeue_offline() == ["early"]
    assert [entry.conversation_id for entry in await store.list_queue()] == ["early", "later"]
    assert (await store.get_state("early")).version == 2
    assert await store.requeue_offline() == []


# --- queue ------------------------------------------------------------------------------------

async def test_queue_orders_by_priority_then_age(make_store: StoreFactory, clock: FakeClock) -> None:
    store = make_store(clock=clock)
    for conversation_id, priority in (("low-old", 0), ("mid-old", 2), ("high", 5), ("mid-new", 2), ("low-new", 0)):
        await queued(store, conversation_id, priority)
        clock.advance(1.5)
    entries = await store.list_queue()
    order = ["high", "mid-old", "mid-new", "low-old", "low-new"]
    assert [entry.conversation_id for entry in entries] == order
    assert [entry.position for entry in entries] == [1, 2, 3, 4, 5]
    assert [await store.queue_position(c) for c in order] == [1, 2, 3, 4, 5]
    assert entries[0].wait_seconds == 4.5 and entries[3].wait_seconds == 7.5
    assert entries[0].ticket is not None and entries[0].channel == "rest"


async def test_stale_queue_entries_are_skipped_then_swept(
        make_store: StoreFactory, raw_redis: Redis, clock: FakeClock) -> None:
    store = make_store(clock=clock)
    # Leftovers of processes that died between two steps: an entry whose request never flipped
    # the state, and one whose claim never removed it.
    await raw_redis.zadd(store.keys.queue, {"never-queued": queue_score(9, clock.now)})
    await assigned(store, "claimed", "alice")
    await raw_redis.zadd(store.keys.queue, {"claimed": queue_score(9, clock.now)})
    await queued(store, "real", priority=1)
    assert [entry.conversation_id for entry in await store.list_queue()] == ["real"]
    assert await store.queue_position("real") == 1
    assert await raw_redis.zcard(store.keys.queue) == 3  # too young to sweep: may be mid-request
    clock.advance(store.config.stale_grace_seconds + 1)
    assert [entry.conversation_id for entry in await store.list_queue()] == ["real"]
    assert await raw_redis.zrange(store.keys.queue, 0, -1) == ["real"]


async def test_queue_score_round_trips() -> None:
    for priority, queued_at in ((0, 1_700_000_000.123), (7, 1_700_000_123.456), (100, 1_800_000_000.001)):
        got_priority, got_time = split_score(queue_score(priority, queued_at))
        assert got_priority == priority and abs(got_time - queued_at) < 1e-3


# --- messages ---------------------------------------------------------------------------------

async def test_duplicate_message_ids_are_dropped(store: HandoffStore, raw_redis: Redis) -> None:
    first = await store.append_message("c", INBOX, "m-1", "customer", "hello")
    retry = await store.append_message("c", INBOX, "m-1", "customer", "hello")
    assert first == AppendResult(first.stream_id, duplicate=False)
    assert retry == AppendResult(first.stream_id, duplicate=True)
    assert await raw_redis.xlen(store.keys.stream("c", INBOX)) == 1
    other_way = await store.append_message("c", OUTBOX, "m-1", "alice", "hi")
    assert not other_way.duplicate
    assert 0 < await raw_redis.ttl(store.keys.seen("c", INBOX, "m-1")) <= store.config.dedup_ttl_seconds
    # Each stored once: the customer's message on the agents' feed, the agent's on the outbox feed.
    assert (await event_types(store)).count("message") == 1
    [announced] = await store.read_events(feed=OUTBOX_FEED)
    assert (announced.type, announced.data["direction"], announced.data["stream_id"]) == (
        "message", OUTBOX, other_way.stream_id)


async def test_messages_are_stored_after_redis_lost_its_scripts(store: HandoffStore, raw_redis: Redis) -> None:
    """As after a Redis restart: the batched append finds no script by its SHA and loads it."""
    await store.append_message("c", INBOX, "m-1", "customer", "before")
    await raw_redis.script_flush()
    after = await asyncio.gather(*(store.append_message("c", INBOX, f"m-{n}", "customer", "after") for n in range(2, 6)))
    assert not any(result.duplicate for result in after)
    assert await raw_redis.xlen(store.keys.stream("c", INBOX)) == 5


async def test_customer_messages_are_routed_by_mode_in_one_step(store: HandoffStore, raw_redis: Redis) -> None:
    human = (QUEUED, ASSIGNED, WAITING_OFFLINE)
    to_bot = await store.accept_customer_message("c", "m-1", "customer", "hi", human)
    assert (to_bot.outcome, to_bot.mode, to_bot.stream_id) == ("bot", BOT, "")
    assert (await store.accept_customer_message("c", "m-1", "customer", "hi", human)).outcome == "duplicate"
    assert not await raw_redis.exists(store.keys.stream("c", INBOX))

    await assigned(store, "c", "alice")
    to_agent = await store.accept_customer_message("c", "m-2", "customer", "<b>still there?</b>", human)
    assert (to_agent.outcome, to_agent.mode, to_agent.agent_id) == ("appended", ASSIGNED, "alice")
    again = await store.accept_customer_message("c", "m-2", "customer", "<b>still there?</b>", human)
    assert (again.outcome, again.stream_id) == ("duplicate", to_agent.stream_id)
    # An id the bot already answered is never handed to the agent as well.
    assert (await store.accept_customer_message("c", "m-1", "customer", "hi", human)).outcome == "duplicate"

    [event] = [e for e in await store.read_events() if e.type == "message"]
    assert event.data["agent_id"] == "alice"
    assert event.data["message"]["text"] == "<b>still there?</b>"
    assert event.data["message"]["stream_id"] == to_agent.stream_id
    [stored] = await store.read_messages("c", INBOX)
    assert stored.to_dict() == event.data["message"]

    await store.abandon("c")
    refused = await store.accept_customer_message("c", "m-3", "customer", "back", human)
    assert (refused.outcome, refused.mode) == ("refused", ABANDONED)


async def test_agent_messages_need_the_conversation_assigned_to_that_agent(store: HandoffStore) -> None:
    unknown = await store.append_agent_message("c", "alice", "a-1", "hello")
    assert (unknown.outcome, unknown.mode, unknown.version) == ("refused", BOT, 0)
    await assigned(store, "c", "alice")
    not_theirs = await store.append_agent_message("c", "bob", "b-1", "hello")
    assert (not_theirs.outcome, not_theirs.agent_id) == ("refused", "alice")
    sent = await store.append_agent_message("c", "alice", "a-1", "hello")
    assert (sent.outcome, sent.mode, sent.agent_id) == ("appended", ASSIGNED, "alice")
    assert [m.text for m in await store.read_messages("c", OUTBOX)] == ["hello"]


async def test_messages_are_validated(store: HandoffStore) -> None:
    for direction, kind, message_id in (("sideways", "text", "m"), (INBOX, "shout", "m"), (INBOX, "text", "")):
        with pytest.raises(ValueError):
            await store.append_message("c", direction, message_id, "customer", "x", kind=kind)


async def test_catch_up_reads_after_a_known_id(store: HandoffStore) -> None:
    ids = [(await store.append_message("c", INBOX, f"m{n}", "customer", f"text {n}")).stream_id
           for n in range(5)]
    everything = await store.read_messages("c", INBOX)
    assert [message.stream_id for message in everything] == ids
    rest = await store.read_messages("c", INBOX, after_id=ids[1])
    assert [message.text for message in rest] == ["text 2", "text 3", "text 4"]
    assert [m.text for m in await store.read_messages("c", INBOX, after_id=ids[1], count=1)] == ["text 2"]
    assert await store.read_messages("c", INBOX, after_id=ids[-1]) == []


async def test_blocking_read_wakes_on_a_new_message(store: HandoffStore) -> None:
    started = time.monotonic()
    assert await store.read_messages("c", OUTBOX, block_ms=200) == []
    assert time.monotonic() - started >= 0.15
    reader = asyncio.create_task(store.read_messages("c", OUTBOX, block_ms=5_000))
    await asyncio.sleep(0.2)
    await store.append_message("c", OUTBOX, "a-1", "alice", "how can I help?")
    started = time.monotonic()
    [message] = await asyncio.wait_for(reader, timeout=2)
    assert time.monotonic() - started < 1
    assert (message.sender, message.text, message.direction) == ("alice", "how can I help?", OUTBOX)
    for block_ms in (0, store.config.max_block_ms + 1):
        with pytest.raises(ValueError):
            await store.read_messages("c", OUTBOX, block_ms=block_ms)
        with pytest.raises(ValueError):
            await store.read_outboxes({"c": "0-0"}, "channel", {}, (store.keys.outbox_wake("r"), "0-0"), block_ms)


async def test_transcript_merges_both_directions_in_order(store: HandoffStore) -> None:
    script = [(INBOX, "customer", "my card was charged twice", "text"),
              (OUTBOX, "system", "alice joined", "system"),
              (OUTBOX, "alice", "let me look", "text"),
              (INBOX, "customer", "thanks", "text"),
              (OUTBOX, "alice", "refund issued", "note")]
    for n, (direction, sender, text, kind) in enumerate(script):
        await store.append_message("c", direction, f"id-{n}", sender, text, kind=kind, extra={"n": n})
    transcript = await store.transcript("c")
    assert [(m.direction, m.sender, m.text, m.kind) for m in transcript] == script
    assert [m.seq for m in transcript] == [1, 2, 3, 4, 5]
    assert [m.extra for m in transcript] == [{"n": n} for n in range(5)]
    assert all(m.conversation_id == "c" and m.ts > 0 for m in transcript)


async def test_streams_are_capped(make_store: StoreFactory, raw_redis: Redis) -> None:
    store = make_store(stream_maxlen=10, events_maxlen=10)
    for n in range(400):
        await store.append_message("c", INBOX, f"m{n}", "customer", "spam")
    # Trimming is approximate (whole radix-tree nodes of 100 entries), but it happens.
    assert 10 <= await raw_redis.xlen(store.keys.stream("c", INBOX)) < 400
    assert 10 <= await raw_redis.xlen(store.keys.events) < 400


# --- events -----------------------------------------------------------------------------------

async def test_every_step_notifies_agents(store: HandoffStore) -> None:
    await queued(store, "c")
    await store.claim("c", "alice", 3)
    await store.append_message("c", INBOX, "m1", "customer", "hello?")
    await store.transfer("c", "alice", "bob")
    await store.resolve("c", "bob")
    await store.request_handoff("c", ticket("c"), 1, "rest", agents_online=False)
    await store.requeue_offline()
    await store.abandon("c")
    events = await store.read_events()
    assert [e.type for e in events] == ["ticket_created", "ticket_claimed", "message", "ticket_transferred",
                                        "ticket_resolved", "ticket_created", "ticket_requeued",
                                        "ticket_abandoned"]
    assert {e.conversation_id for e in events} == {"c"}
    assert events[3].data == {"from_agent": "alice", "to_agent": "bob"}
    assert events[2].data["direction"] == INBOX and events[5].data["mode"] == WAITING_OFFLINE
    later = await store.read_events(after_id=events[4].id)
    assert [e.type for e in later] == ["ticket_created", "ticket_requeued", "ticket_abandoned"]
    waiting = asyncio.create_task(store.read_events(after_id=events[-1].id, block_ms=5_000))
    await asyncio.sleep(0.2)
    await queued(store, "d")
    [fresh] = await asyncio.wait_for(waiting, timeout=2)
    assert (fresh.type, fresh.conversation_id) == ("ticket_created", "d")


async def test_refused_transitions_notify_nobody(store: HandoffStore) -> None:
    await store.claim("c", "alice", 3)
    await store.resolve("c", "alice")
    await store.abandon("c")
    assert await store.read_events() == []


# --- presence ---------------------------------------------------------------------------------

async def test_presence_statuses_and_heartbeat_expiry(make_store: StoreFactory, clock: FakeClock) -> None:
    store = make_store(clock=clock)
    assert await store.set_presence("alice", "online", ttl_seconds=30) == "offline"
    assert await store.set_presence("bob", "online", ttl_seconds=60) == "offline"
    assert await store.set_presence("carol", "away", ttl_seconds=60) == "offline"
    assert await store.online_agents() == ["alice", "bob"]
    clock.advance(31)
    assert await store.online_agents() == ["bob"]
    assert await store.set_presence("alice", "online", ttl_seconds=30) == "offline"  # it had run out
    assert await store.set_presence("alice", "online", ttl_seconds=30) == "online"
    assert await store.set_presence("bob", "offline") == "online"
    assert await store.online_agents() == ["alice"]
    with pytest.raises(ValueError):
        await store.set_presence("alice", "asleep")


async def test_presence_runs_out_in_real_time(store: HandoffStore) -> None:
    await store.set_presence("alice", "online", ttl_seconds=0.3)
    assert await store.online_agents() == ["alice"]
    await asyncio.sleep(0.5)
    assert await store.online_agents() == []


# --- unavailability ---------------------------------------------------------------------------

async def test_a_stopped_redis_surfaces_quickly_as_store_unavailable(
        make_store: StoreFactory, tmp_path: Path) -> None:
    server = RedisServer(tmp_path)
    server.start()
    try:
        store = make_store(server.url, socket_timeout=0.5, connect_timeout=0.5)
        await queued(store, "c")
        server.stop()
        calls = (store.ping(), store.get_state("c"), store.claim("c", "alice", 3),
                 store.append_message("c", INBOX, "m", "customer", "hi"),
                 store.read_messages("c", INBOX, block_ms=1_000), store.list_queue(), store.online_agents())
        for call in calls:
            started = time.monotonic()
            with pytest.raises(StoreUnavailable):
                await call
            assert time.monotonic() - started < 1.5
        server.start()  # same port: the same store works again without being rebuilt
        assert (await store.get_state("c")).mode == BOT  # no persistence: a fresh, empty server
    finally:
        server.stop()


async def test_a_full_redis_refuses_writes_as_store_unavailable_and_keeps_what_it_acknowledged(
        make_store: StoreFactory, tmp_path: Path) -> None:
    """maxmemory with noeviction (as `make run` configures it): a write is refused with a clear
    error, nothing is evicted, and reads still answer."""
    server = RedisServer(tmp_path)
    server.start()
    raw = Redis.from_url(server.url)
    try:
        store = make_store(server.url)
        await queued(store, "kept")
        assert (await store.append_message("kept", INBOX, "m1", "customer", "before it filled up")).stream_id
        used = int((await raw.info("memory"))["used_memory"])
        await raw.config_set("maxmemory-policy", "noeviction")
        await raw.config_set("maxmemory", used + 64 * 1024)
        with pytest.raises(StoreUnavailable, match="full"):
            for number in range(10_000):  # bounded: 64 KB fill up long before
                await store.append_message("kept", INBOX, f"filler-{number}", "customer", "x" * 1024)
        kept = await store.read_messages("kept", INBOX)
        assert kept[0].text == "before it filled up"
        assert (await store.get_state("kept")).mode == QUEUED
    finally:
        await raw.close()
        server.stop()


async def test_a_hung_redis_surfaces_as_store_unavailable_after_the_socket_timeout(
        make_store: StoreFactory, tmp_path: Path) -> None:
    server = RedisServer(tmp_path)
    server.start()
    try:
        store = make_store(server.url, socket_timeout=0.5, connect_timeout=0.5)
        await store.ping()
        os.kill(server.pid, signal.SIGSTOP)
        try:
            started = time.monotonic()
            with pytest.raises(StoreUnavailable):
                await store.get_state("c")
            assert 0.4 < time.monotonic() - started < 1.5
        finally:
            os.kill(server.pid, signal.SIGCONT)
        assert (await store.get_state("c")).mode == BOT, "the read that timed out works again once Redis answers"
        assert 0 < await store.ping() < 0.5, "a round trip in seconds, well within the socket timeout"
    finally:
        server.stop()


# --- cluster readiness ------------------------------------------------------------------------

async def _whole_workflow(store: HandoffStore) -> None:
    await store.set_presence("alice", "online", ttl_seconds=30)
    await store.online_agents()
    await queued(store, "conv-1")
    await store.request_handoff("conv-1", ticket("conv-1"), 1, "rest")  # refused: undo path
    await store.request_handoff("conv-2", ticket("conv-2"), 1, "rest", agents_online=False)
    await store.requeue_offline()
    await store.list_queue()
    await store.queue_position("conv-1")
    await store.claim("conv-1", "alice", 1)
    await store.claim("conv-2", "alice", 1)  # at capacity: reserve, sweep
    await store.append_message("conv-1", INBOX, "m1", "customer", "hi")
    await store.append_message("conv-1", INBOX, "m1", "customer", "hi")
    await store.append_message("conv-1", OUTBOX, "a1", "alice", "hello")
    await store.transcript("conv-1")
    await store.read_messages("conv-1", INBOX)
    await store.transfer("conv-1", "alice", "bob")
    await store.resolve("conv-1", "bob")
    await store.abandon("conv-2")
    await store.return_to_bot("conv-2")
    await store.read_events()


async def test_every_atomic_step_touches_one_hash_tag(
        store: HandoffStore, raw_redis: Redis, redis_url: str) -> None:
    monitor_client = Redis.from_url(redis_url, decode_responses=True)
    script_keys: list[list[str]] = []
    lua_calls_seen = transactions_seen = 0
    async with monitor_client.monitor() as monitor:
        await _whole_workflow(store)
        await raw_redis.echo("workflow-done")
        in_multi: dict[str, list[str]] = {}
        while True:
            info = await monitor.next_command()
            args = info["command"].split(" ")
            name = args[0].upper()
            if name == "ECHO" and args[1] == "workflow-done":
                break
            if name in ("EVALSHA", "EVAL"):
                script_keys.append(args[3:3 + int(args[2])])
                assert len({hash_tag(key) for key in script_keys[-1]}) == 1, f"script spans tags: {args}"
            elif info["client_type"] == "lua":
                declared = {hash_tag(key) for key in script_keys[-1]}
                assert hash_tag(args[1]) in declared, f"script touched an undeclared tag: {args}"
                lua_calls_seen += 1
            elif name == "MULTI":
                in_multi[info["client_port"]] = []
            elif name == "EXEC":
                keys = in_multi.pop(info["client_port"])
                assert len({hash_tag(key) for key in keys}) == 1, f"transaction spans hash tags: {keys}"
                transactions_seen += 1
            elif info["client_port"] in in_multi:
                in_multi[info["client_port"]].append(args[1])
    await monitor_client.close()
    assert len(script_keys) >= 15 and lua_calls_seen > len(script_keys) and transactions_seen >= 1
    tags = {"conv-1", "conv-2", "queue", "events", "agents", "agent:alice", "agent:bob", "insights"}
    # events and the capture stream (insights): plain XADD
    assert {hash_tag(keys[0]) for keys in script_keys} == tags - {"events", "insights"}

    keys = await raw_redis.keys(f"{store.config.prefix}:*")
    assert keys and all(key.startswith(f"{store.config.prefix}:{{") for key in keys)
    assert {hash_tag(key) for key in keys} <= tags


async def test_a_script_call_spanning_hash_tags_is_refused(store: HandoffStore) -> None:
    with pytest.raises(ValueError):
        await store._script("TRANSITION", [store.keys.state("a"), store.keys.state("b")], [])


async def test_hash_tags_and_key_names() -> None:
    keys = Keys("hx")
    assert keys.state("c-1") == "hx:{c-1}:state" and hash_tag(keys.state("c-1")) == "c-1"
    assert hash_tag(keys.seen("c-1", INBOX, "m{9}")) == "c-1"
    assert hash_tag(keys.agent_chats("alice")) == "agent:alice"
    assert hash_tag("plain") == "plain" and hash_tag("a{}b{c}") == "a{}b{c}"
    for bad in (lambda: keys.state(""), lambda: keys.agent_chats(""), lambda: Keys("a{b}")):
        with pytest.raises(ValueError):
            bad()


# --- models -----------------------------------------------------------------------------------

async def test_models_round_trip_through_dicts() -> None:
    full_ticket = Ticket("c", "frustration", 3, 0.7, "angry", [{"intent": "complaint", "confidence": 0.9}],
                         {"order_id": "A1"}, [{"sender": "user", "text": "grr"}], "rest", 1.5)
    state = ConversationState("c", ASSIGNED, "alice", full_ticket, 3, "rest", 1.0, 2.0, 2.0, 2)
    samples = [
        full_ticket, state,
        ClaimResult(False, state, "already_claimed", 2),
        QueueEntry("c", 1, 3, 1.0, 4.0, "rest", full_ticket),
        ChatMessage("m", "c", INBOX, "customer", "hi", "text", 1.0, "1-0", 1, {"k": 1}),
        AppendResult("1-0", duplicate=True),
        HandoffEvent("1-0", "ticket_created", "c", 1.0, {"priority": 3}),
    ]
    for sample in samples:
        assert type(sample).from_dict(sample.to_dict()) == sample
    assert Ticket.from_json(full_ticket.to_json()) == full_ticket
    assert Ticket.from_dict({"conversation_id": "c", "from_a_newer_writer": 1}) == Ticket("c")
    assert ClaimResult(False, state, "already_claimed").to_dict()["owner"] == "alice"


async def test_records_expire_once_back_with_the_bot_and_stay_while_a_human_has_them(
        store: HandoffStore, raw_redis: Redis) -> None:
    keys = [store.keys.state("c"), store.keys.stream("c", INBOX), store.keys.stream("c", OUTBOX),
            store.keys.sequence("c")]
    await assigned(store, "c", "alice")
    await store.append_message("c", INBOX, "m1", "customer", "hi")
    await store.append_message("c", OUTBOX, "a1", "alice", "hello")
    assert [await raw_redis.ttl(key) for key in keys] == [-1, -1, -1, -1]
    await store.resolve("c", "alice")
    assert all(0 < ttl <= store.config.retention_seconds for ttl in [await raw_redis.ttl(key) for key in keys])
    await queued(store, "c")  # handed off again: kept for as long as it takes
    assert [await raw_redis.ttl(key) for key in keys] == [-1, -1, -1, -1]
    await store.abandon("c")
    await store.return_to_bot("c")
    assert all(0 < ttl <= store.config.retention_seconds for ttl in [await raw_redis.ttl(key) for key in keys])
