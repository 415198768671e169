"""Queue, claim, transfer and who may read or act on a conversation."""

from __future__ import annotations

import asyncio
import time

import pytest

from handoff.models import ASSIGNED, INBOX
from handoff.store import HandoffStore
from tests.agent_service.client import Api
from tests.agent_service.conftest import MAX_CONCURRENT_CHATS, TICKET, OpenTicket, TakeAgents

pytestmark = pytest.mark.asyncio


async def test_queue_lists_waiting_tickets_with_their_triage_fields(
        api: Api, take_agents: TakeAgents, open_ticket: OpenTicket) -> None:
    (agent,) = take_agents(1)
    before = time.time()
    conversation_id = await open_ticket(priority=4, channel="socketio")
    status, body = await api.as_agent(agent).get("/api/queue")
    waited = time.time() - before
    assert status == 200
    (item,) = [item for item in body["queue"] if item["conversation_id"] == conversation_id]
    assert item["priority"] == 4
    assert item["channel"] == "socketio"
    assert (item["reason"], item["frustration"], item["summary"]) == (
        TICKET["reason"], TICKET["frustration"], TICKET["summary"])
    # Times in the API are rounded to the millisecond: half a millisecond either way.
    assert before - 0.0005 <= item["queued_at"] <= before + waited + 0.0005
    # Waited from queueing until the service answered (rounded to ms): within the time this test took.
    assert 0 <= item["wait_seconds"] <= round(waited, 3) + 0.001
    assert item["position"] == body["queue"].index(item) + 1


async def test_claim_is_exclusive(api: Api, take_agents: TakeAgents, open_ticket: OpenTicket) -> None:
    alice, bob = take_agents(2)
    conversation_id = await open_ticket()
    path = f"/api/conversations/{conversation_id}/claim"
    (status_a, body_a), (status_b, body_b) = await asyncio.gather(
        api.as_agent(alice).post(path), api.as_agent(bob).post(path))
    assert sorted([status_a, status_b]) == [200, 409]
    winner, loser = (alice, body_b) if status_a == 200 else (bob, body_a)
    assert loser["reason"] == "already_claimed"
    assert loser["owner"] == winner.id
    status, again = await api.as_agent(winner).post(path)
    assert status == 200
    assert again["already_yours"] is True
    _, queue = await api.as_agent(alice).get("/api/queue")
    assert conversation_id not in {item["conversation_id"] for item in queue["queue"]}
    _, mine = await api.as_agent(winner).get("/api/conversations/mine")
    assert [c["conversation_id"] for c in mine["conversations"]] == [conversation_id]
    assert mine["conversations"][0]["mode"] == ASSIGNED


async def test_claim_beyond_the_chat_limit_is_refused(
        api: Api, take_agents: TakeAgents, open_ticket: OpenTicket) -> None:
    (agent,) = take_agents(1)
    client = api.as_agent(agent)
    for _ in range(MAX_CONCURRENT_CHATS):
        status, body = await client.post(f"/api/conversations/{await open_ticket()}/claim")
        assert status == 200, body
    one_too_many = await open_ticket()
    status, body = await client.post(f"/api/conversations/{one_too_many}/claim")
    assert status == 409
    assert body["reason"] == "at_capacity"
    assert str(MAX_CONCURRENT_CHATS) in body["error"]


async def test_unknown_conversation_is_404(api: Api, take_agents: TakeAgents) -> None:
    (agent,) = take_agents(1)
    client = api.as_agent(agent)
    for method, path, body in [("GET", "", None), ("POST", "/claim", None), ("GET", "/messages", None),
                               ("POST", "/messages", {"id": "m1", "text": "hi"}),
                               ("POST", "/typing", {"typing": True}),
                               ("POST", "/transfer", {"to_agent": "a00"}), ("POST", "/resolve", {})]:
        status, answer = await client.call(method, f"/api/conversations/nobody-knows{path}", body=body)
        assert (status, "unknown conversation" in answer["error"]) == (404, True), (method, path, answer)


async def test_a_queued_ticket_is_readable_by_any_agent_an_assigned_one_by_its_owner(
        api: Api, take_agents: TakeAgents, open_ticket: OpenTicket, store: HandoffStore) -> None:
    owner, other = take_agents(2)
    conversation_id = await open_ticket()
    await store.append_message(conversation_id, INBOX, "cust-1", "customer", "are you there?")
    status, body = await api.as_agent(other).get(f"/api/conversations/{conversation_id}")
    assert status == 200
    assert body["ticket"]["slots"] == TICKET["slots"]
    assert body["bot_transcript"] == TICKET["transcript"]
    assert [m["text"] for m in body["messages"]] == ["are you there?"]
    assert body["cursors"]["inbox"] == body["messages"][0]["stream_id"]

    await api.as_agent(owner).post(f"/api/conversations/{conversation_id}/claim")
    base = f"/api/conversations/{conversation_id}"
    refused = [await api.as_agent(other).call(method, base + path, body=body) for method, path, body in [
        ("GET", "", None), ("GET", "/messages", None), ("POST", "/messages", {"id": "m1", "text": "hi"}),
        ("POST", "/typing", {"typing": True}), ("POST", "/transfer", {"to_agent": owner.id}),
        ("POST", "/resolve", {})]]
    assert [status for status, _ in refused] == [403] * len(refused), refused
    status, body = await api.as_agent(owner).get(base)
    assert (status, body["state"]["agent_id"]) == (200, owner.id)


async def test_acting_on_a_queued_conversation_needs_a_claim_first(
        api: Api, take_agents: TakeAgents, open_ticket: OpenTicket) -> None:
    (agent,) = take_agents(1)
    conversation_id = await open_ticket()
    status, body = await api.as_agent(agent).post(f"/api/conversations/{conversation_id}/messages",
                                                  {"id": "m1", "text": "hello"})
    assert status == 409
    assert "queued" in body["error"]


async def test_transfer_moves_the_conversation_within_the_target_limit(
        api: Api, take_agents: TakeAgents, open_ticket: OpenTicket) -> None:
    alice, bob, carol = take_agents(3)
    conversation_id = await open_ticket()
    await api.as_agent(alice).post(f"/api/conversations/{conversation_id}/claim")
    transfer = f"/api/conversations/{conversation_id}/transfer"
    assert (await api.as_agent(alice).post(transfer, {"to_agent": "no-such-agent"}))[0] == 400
    assert (await api.as_agent(alice).post(transfer, {"to_agent": alice.id}))[0] == 400
    assert (await api.as_agent(alice).post(transfer, {}))[0] == 400

    status, body = await api.as_agent(alice).post(transfer, {"to_agent": bob.id})
    assert (status, body["conversation"]["agent_id"]) == (200, bob.id)
    assert (await api.as_agent(alice).get(f"/api/conversations/{conversation_id}"))[0] == 403

    for _ in range(MAX_CONCURRENT_CHATS):
        await api.as_agent(carol).post(f"/api/conversations/{await open_ticket()}/claim")
    status, body = await api.as_agent(bob).post(transfer, {"to_agent": carol.id})
    assert (status, body["reason"]) == (409, "at_capacity")


async def test_agents_list_shows_presence_and_load(
        api: Api, take_agents: TakeAgents, open_ticket: OpenTicket) -> None:
    alice, bob = take_agents(2)
    status, body = await api.as_agent(alice).post("/api/presence", {"status": "online"})
    assert (status, body["status"]) == (200, "online")
    await api.as_agent(alice).post(f"/api/conversations/{await open_ticket()}/claim")
    _, listed = await api.as_agent(bob).get("/api/agents")
    by_id = {agent["id"]: agent for agent in listed["agents"]}
    assert by_id[alice.id] == {"id": alice.id, "name": alice.name, "role": "agent", "online": True,
                               "active_chats": 1, "max_concurrent_chats": MAX_CONCURRENT_CHATS}
    assert by_id[bob.id]["online"] is False
    assert all(not any(key.startswith("token") for key in agent) for agent in listed["agents"])
    status, body = await api.as_agent(alice).post("/api/presence", {"status": "asleep"})
    assert status == 400


async def test_coming_online_requeues_conversations_waiting_for_an_agent(
        api: Api, take_agents: TakeAgents, store: HandoffStore) -> None:
    (agent,) = take_agents(1)
    conversation_id = "c-offline-" + agent.id
    await store.request_handoff(conversation_id, TICKET, 2, "rest", agents_online=False)
    await api.as_agent(agent).post("/api/presence", {"status": "away"})
    status, body = await api.as_agent(agent).post("/api/presence", {"status": "online"})
    assert status == 200
    assert conversation_id in body["requeued"]
    _, queue = await api.as_agent(agent).get("/api/queue")
    assert conversation_id in {item["conversation_id"] for item in queue["queue"]}


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b"\xff\xfe", b""])
async def test_malformed_bodies_are_400_with_a_json_error(
        api: Api, take_agents: TakeAgents, raw: bytes) -> None:
    (agent,) = take_agents(1)
    status, body = await api.as_agent(agent).call("POST", "/api/presence", raw=raw)
    assert status == 400
    assert body["error"]
