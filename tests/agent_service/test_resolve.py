"""Resolve hands the conversation back to Rasa: tracker events in order, slots, resume, the
welcome-back in the outbox; and when Rasa is unreachable, a pending sync retried until it lands."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
import pytest_asyncio

from handoff.agent_service.side_store import PendingSync, ServiceStore
from handoff.models import BOT, INBOX, OUTBOX
from handoff.store import HandoffStore, StoreConfig
from handoff.store_scripts import Keys
from tests.agent_service.client import Api, poll
from tests.agent_service.conftest import OpenTicket, OwnKeys, StartService, TakeAgents, hand_off
from tests.agent_service.fake_rasa import WELCOME_BACK, FakeRasa
from tests.free_port import free_port
from tests.redis_server import RedisServer

pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture
async def side(redis_server: RedisServer, key_prefix: str) -> AsyncIterator[ServiceStore]:
    service_store = ServiceStore(redis_server.url, Keys(key_prefix),
                                 retention_seconds=StoreConfig().retention_seconds)
    yield service_store
    await service_store.close()


async def converse(client: Api, store: HandoffStore, conversation_id: str) -> None:
    """Claim, then a short exchange with a note and typing in between."""
    base = f"/api/conversations/{conversation_id}"
    assert (await client.post(f"{base}/claim"))[0] == 200
    await store.append_message(conversation_id, INBOX, "c1", "customer", "my refund is late")
    await client.post(f"{base}/typing", {"typing": True})
    await client.post(f"{base}/messages", {"id": "a1", "text": "Let me check that for you."})
    await client.post(f"{base}/messages", {"id": "n1", "text": "refund stuck in batch", "kind": "note"})
    await store.append_message(conversation_id, INBOX, "c2", "customer", "thanks")
    await client.post(f"{base}/messages", {"id": "a2", "text": "It is on its way."})


async def test_resolve_syncs_the_tracker_and_appends_the_welcome_back(
        api: Api, take_agents: TakeAgents, open_ticket: OpenTicket, store: HandoffStore, fake_rasa: FakeRasa,
        side: ServiceStore) -> None:
    (agent,) = take_agents(1)
    client = api.as_agent(agent)
    conversation_id = await open_ticket(channel="socketio")
    await converse(client, store, conversation_id)

    status, body = await client.post(f"/api/conversations/{conversation_id}/resolve",
                                     {"slots": {"refund_status": "sent", "order_id": "A-1"}})
    assert status == 200, body
    assert (body["rasa_sync"], body["welcome_messages"], body["conversation"]["mode"]) == ("ok", 2, BOT)
    assert "warning" not in body

    events_call, trigger_call = fake_rasa.calls_for(conversation_id)
    assert events_call.endpoint == "tracker/events"
    assert "token" not in events_call.query
    listen = ("action", "action_listen")
    assert [(e["event"], e.get("text") or e.get("name")) for e in events_call.body] == [
        listen, ("user", "my refund is late"), ("bot", "Let me check that for you."), listen, ("user", "thanks"),
        ("bot", "It is on its way."), ("slot", "refund_status"), ("slot", "order_id"), ("resume", None), listen]
    user, bot = events_call.body[1], events_call.body[2]
    assert user["parse_data"]["intent"] == {"name": "handoff_customer_message", "confidence": 1.0}
    assert (user["input_channel"], user["metadata"], user["message_id"]) == (
        "socketio", {"handoff": True}, "c1")
    assert bot["metadata"] == {"handoff": True, "message_id": "a1", "agent_id": agent.id,
                               "agent_name": agent.name}
    assert events_call.body[6]["value"] == "sent"

    assert (trigger_call.endpoint, trigger_call.body) == ("trigger_intent", {"name": "handoff_resolved"})
    assert "output_channel" not in trigger_call.query
    welcome = [m for m in await store.read_messages(conversation_id, OUTBOX) if m.sender == "bot"]
    assert [m.text for m in welcome] == [m["text"] for m in WELCOME_BACK]
    assert welcome[1].extra["buttons"] == WELCOME_BACK[1]["buttons"]
    assert await side.load_pending(conversation_id) is None
    assert (await store.get_state(conversation_id)).mode == BOT


async def test_only_the_owner_resolves_and_only_once(
        api: Api, take_agents: TakeAgents, open_ticket: OpenTicket) -> None:
    owner, other = take_agents(2)
    conversation_id = await open_ticket()
    path = f"/api/conversations/{conversation_id}/resolve"
    assert (await api.as_agent(owner).post(path))[0] == 409  # not claimed yet
    await api.as_agent(owner).post(f"/api/conversations/{conversation_id}/claim")
    assert (await api.as_agent(other).post(path))[0] == 403
    assert (await api.as_agent(owner).post(path, {"slots": ["not", "a", "mapping"]}))[0] == 400
    assert (await api.as_agent(owner).post(path))[0] == 200
    status, body = await api.as_agent(owner).post(path)
    assert status == 409
    assert "bot" in body["error"]


async def test_unreachable_rasa_leaves_a_pending_sync_and_a_warning(
        start_service: StartService, http: aiohttp.ClientSession, take_agents: TakeAgents,
        own_keys: OwnKeys) -> None:
    prefix, store, side = own_keys
    service = start_service(rasa_url=f"http://127.0.0.1:{free_port()}", rasa_sync_retry_seconds="600",
                            key_prefix=prefix)
    (agent,) = take_agents(1)
    client = Api(http, service.url, agent)
    conversation_id = await hand_off(store)
    await converse(client, store, conversation_id)

    status, body = await client.post(f"/api/conversations/{conversation_id}/resolve", {"slots": {"x": 1}})
    assert status == 200, body
    assert (body["rasa_sync"], body["conversation"]["mode"]) == ("pending", BOT)
    assert "Rasa" in body["warning"]
    assert "retried" in body["warning"]
    pending = await side.load_pending(conversation_id)
    assert pending is not None
    assert (pending.agent_id, pending.slots, pending.stage, pending.attempts) == (
        agent.id, {"x": 1}, "events", 1)
    assert conversation_id in await side.due_pending(float("inf"))


async def test_a_wrong_rasa_secret_leaves_a_pending_sync_that_names_the_refusal(
        start_service: StartService, http: aiohttp.ClientSession, take_agents: TakeAgents,
        own_keys: OwnKeys, fake_rasa: FakeRasa) -> None:
    prefix, store, side = own_keys
    service = start_service(rasa_jwt_secret="not-the-secret-rasa-checks", rasa_sync_retry_seconds="600",
                            key_prefix=prefix)
    (agent,) = take_agents(1)
    client = Api(http, service.url, agent)
    conversation_id = await hand_off(store)
    await converse(client, store, conversation_id)

    status, body = await client.post(f"/api/conversations/{conversation_id}/resolve")
    assert status == 200, body
    assert body["rasa_sync"] == "pending"
    assert [(call.endpoint, call.authorised) for call in fake_rasa.calls_for(conversation_id)] == [
        ("tracker/events", False)]
    assert fake_rasa.trackers.get(conversation_id) is None
    pending = await side.load_pending(conversation_id)
    assert pending is not None and pending.stage == "events"


async def test_a_pending_sync_is_retried_once_rasa_is_back(
        start_service: StartService, http: aiohttp.ClientSession, take_agents: TakeAgents,
        own_keys: OwnKeys) -> None:
    prefix, store, side = own_keys
    rasa_port = free_port()
    service = start_service(rasa_url=f"http://127.0.0.1:{rasa_port}", rasa_sync_retry_seconds="0.2",
                            rasa_jwt_secret="rasa-secret-of-this-test", key_prefix=prefix)
    (agent,) = take_agents(1)
    client = Api(http, service.url, agent)
    conversation_id = await hand_off(store)
    await converse(client, store, conversation_id)
    _, body = await client.post(f"/api/conversations/{conversation_id}/resolve")
    assert body["rasa_sync"] == "pending"

    rasa = FakeRasa("rasa-secret-of-this-test", rasa_port).start()
    try:
        async def synced() -> bool:
            return await side.load_pending(conversation_id) is None

        await poll(synced)
        calls = rasa.calls_for(conversation_id)
    finally:
        rasa.stop()
    # A retry reads the tracker first (the failed attempt might have reached Rasa), once: the
    # trigger then follows the resume it just appended.
    assert [call.endpoint for call in calls] == ["GET tracker", "tracker/events", "trigger_intent"]
    assert all(call.authorised and "token" not in call.query for call in calls)
    assert [e["event"] for e in calls[1].body] == ["action", "user", "bot", "action", "user", "bot",
                                                       "resume", "action"]
    welcome = [m.text for m in await store.read_messages(conversation_id, OUTBOX) if m.sender == "bot"]
    assert welcome == [m["text"] for m in WELCOME_BACK]


async def test_a_marker_left_by_a_crash_after_the_resolve_is_synced_by_the_retry_task(
        api: Api, take_agents: TakeAgents, open_ticket: OpenTicket, store: HandoffStore, fake_rasa: FakeRasa,
        side: ServiceStore) -> None:
    (agent,) = take_agents(1)
    conversation_id = await open_ticket()
    await converse(api.as_agent(agent), store, conversation_id)
    state = await store.get_state(conversation_id)
    # What a resolve does up to the Rasa calls, as if its process died right after: the lease keeps
    # the running service's retry task away until the resolve is in.
    lease = await side.acquire_lease(conversation_id, 30)
    await side.save_pending(PendingSync(conversation_id, agent.id, agent.name, "rest", since=state.queued_at,
                                        until_seq=-1, version=state.version, queued_at=state.queued_at), 0)
    assert (await store.resolve(conversation_id, agent.id)).ok
    await side.release_lease(conversation_id, lease)

    async def synced() -> bool:
        return await side.load_pending(conversation_id) is None

    await poll(synced)
    endpoints = [call.endpoint for call in fake_rasa.calls_for(conversation_id)]
    assert endpoints == ["GET tracker", "tracker/events", "trigger_intent"]
    assert len([m for m in await store.read_messages(conversation_id, OUTBOX) if m.sender == "bot"]) == 2


async def test_a_marker_whose_resolve_never_happened_is_dropped(
        api: Api, take_agents: TakeAgents, open_ticket: OpenTicket, store: HandoffStore, fake_rasa: FakeRasa,
        side: ServiceStore) -> None:
    (agent,) = take_agents(1)
    conversation_id = await open_ticket()
    await api.as_agent(agent).post(f"/api/conversations/{conversation_id}/claim")
    state = await store.get_state(conversation_id)
    await side.save_pending(PendingSync(conversation_id, agent.id, agent.name, "rest", since=state.queued_at,
                                        until_seq=-1, version=state.version, queued_at=state.queued_at), 0)

    async def dropped() -> bool:
        return await side.load_pending(conversation_id) is None

    await poll(dropped)
    assert fake_rasa.calls_for(conversation_id) == []
    assert (await store.get_state(conversation_id)).agent_id == agent.id


def handoff_message_ids(events: list[dict]) -> list[str]:
    """The ids of the handoff messages in a tracker, in order, repeats included."""
    return [event.get("message_id") or event["metadata"]["message_id"]
            for event in events if (event.get("metadata") or {}).get("handoff")]


async def resolved_with_a_lost_answer(api: Api, take_agents: TakeAgents, open_ticket: OpenTicket,
                                      store: HandoffStore, fake_rasa: FakeRasa, side: ServiceStore,
                                      endpoint: str) -> str:
    """A conversation resolved while Rasa applied the `endpoint` call but its answer never came,
    once the retry task has synced it; returns its id."""
    (agent,) = take_agents(1)
    conversation_id = await open_ticket()
    await converse(api.as_agent(agent), store, conversation_id)
    fake_rasa.lose_answers(conversation_id, endpoint)
    _, body = await api.as_agent(agent).post(f"/api/conversations/{conversation_id}/resolve")
    assert body["rasa_sync"] == "pending"

    async def synced() -> bool:
        return await side.load_pending(conversation_id) is None

    await poll(synced)
    return conversation_id


async def test_a_lost_answer_to_the_events_call_does_not_double_the_record(
        api: Api, take_agents: TakeAgents, open_ticket: OpenTicket, store: HandoffStore, fake_rasa: FakeRasa,
        side: ServiceStore) -> None:
    conversation_id = await resolved_with_a_lost_answer(api, take_agents, open_ticket, store, fake_rasa, side,
                                                        "tracker/events")
    tracker = fake_rasa.trackers[conversation_id]
    assert handoff_message_ids(tracker) == ["c1", "a1", "c2", "a2"]  # each once
    assert [event["event"] for event in tracker].count("resume") == 2  # repeating it changes nothing
    welcome = [m.text for m in await store.read_messages(conversation_id, OUTBOX) if m.sender == "bot"]
    assert welcome == [m["text"] for m in WELCOME_BACK]


async def test_a_lost_answer_to_the_trigger_greets_the_customer_once_from_the_tracker(
        api: Api, take_agents: TakeAgents, open_ticket: OpenTicket, store: HandoffStore, fake_rasa: FakeRasa,
        side: ServiceStore) -> None:
    conversation_id = await resolved_with_a_lost_answer(api, take_agents, open_ticket, store, fake_rasa, side,
                                                        "trigger_intent")
    endpoints = [call.endpoint for call in fake_rasa.calls_for(conversation_id)]
    assert endpoints == ["tracker/events", "trigger_intent", "GET tracker"]  # not triggered again
    welcome = [m for m in await store.read_messages(conversation_id, OUTBOX) if m.sender == "bot"]
    assert [m.text for m in welcome] == [m["text"] for m in WELCOME_BACK]
    assert welcome[1].extra["buttons"] == WELCOME_BACK[1]["buttons"]
