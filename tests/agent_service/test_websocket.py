"""Live pushes to consoles: hello, queue changes, customer messages and events about one's chats."""

from __future__ import annotations

import aiohttp
import pytest

from handoff.models import INBOX
from handoff.store import HandoffStore
from tests.agent_service.client import Api, console, of_type, queue_has
from tests.agent_service.conftest import OpenTicket, StartService, TakeAgents
from tests.agent_service.service_process import ServiceProcess

pytestmark = pytest.mark.asyncio


async def test_hello_carries_the_queue_and_the_agents_chats(
        service: ServiceProcess, api: Api, take_agents: TakeAgents, open_ticket: OpenTicket) -> None:
    (agent,) = take_agents(1)
    waiting, held = await open_ticket(), await open_ticket()
    await api.as_agent(agent).post(f"/api/conversations/{held}/claim")
    async with console(service.ws_url, agent.token) as live:
        hello = await live.expect(of_type("hello"))
    assert waiting in {item["conversation_id"] for item in hello["queue"]}
    assert [item["conversation_id"] for item in hello["mine"]] == [held]


async def test_queue_changes_are_pushed(
        service: ServiceProcess, api: Api, take_agents: TakeAgents, open_ticket: OpenTicket,
        store: HandoffStore) -> None:
    watcher, claimer = take_agents(2)
    async with console(service.ws_url, watcher.token) as live:
        await live.expect(of_type("hello"))
        conversation_id = await open_ticket()
        added = await live.expect(queue_has(conversation_id))
        (item,) = [i for i in added["queue"] if i["conversation_id"] == conversation_id]
        assert item["reason"] == "explicit_request"
        await api.as_agent(claimer).post(f"/api/conversations/{conversation_id}/claim")
        await live.expect(lambda m: m["type"] == "queue" and queue_has(conversation_id, present=False)(m))
        other = await open_ticket()
        await live.expect(queue_has(other))
        await store.abandon(other)
        await live.expect(lambda m: m["type"] == "queue" and queue_has(other, present=False)(m))


async def test_customer_messages_reach_only_the_owner(
        service: ServiceProcess, api: Api, take_agents: TakeAgents, open_ticket: OpenTicket,
        store: HandoffStore) -> None:
    owner, other = take_agents(2)
    conversation_id = await open_ticket()
    await api.as_agent(owner).post(f"/api/conversations/{conversation_id}/claim")
    async with console(service.ws_url, owner.token) as mine, console(service.ws_url, other.token) as theirs:
        await mine.expect(of_type("hello"))
        await theirs.expect(of_type("hello"))
        await store.append_message(conversation_id, INBOX, "cust-1", "customer", "<i>still waiting</i>")
        pushed = await mine.expect(of_type("message", conversation_id=conversation_id))
        assert (pushed["message"]["id"], pushed["message"]["text"]) == ("cust-1", "<i>still waiting</i>")
        # A later push to the other console proves the first one was never sent there.
        await theirs.send({"type": "ping"})
        await theirs.expect(of_type("pong"))
        assert not [m for m in theirs.received if m["type"] == "message"]


async def test_reconnect_then_catch_up_misses_nothing(
        service: ServiceProcess, api: Api, take_agents: TakeAgents, open_ticket: OpenTicket,
        store: HandoffStore) -> None:
    (agent,) = take_agents(1)
    conversation_id = await open_ticket()
    client = api.as_agent(agent)
    await client.post(f"/api/conversations/{conversation_id}/claim")
    async with console(service.ws_url, agent.token) as live:
        await live.expect(of_type("hello"))
        await store.append_message(conversation_id, INBOX, "before", "customer", "one")
        last_seen = (await live.expect(of_type("message")))["message"]["stream_id"]
    for n in range(3):  # while the console is away
        await store.append_message(conversation_id, INBOX, f"away-{n}", "customer", f"missed {n}")
    async with console(service.ws_url, agent.token) as live:
        await live.expect(of_type("hello"))
        _, caught_up = await client.get(f"/api/conversations/{conversation_id}/messages",
                                        params={"after": last_seen})
    assert [m["id"] for m in caught_up["messages"]] == ["away-0", "away-1", "away-2"]


async def test_claim_transfer_and_resolve_are_pushed_to_the_agents_involved(
        service: ServiceProcess, api: Api, take_agents: TakeAgents, open_ticket: OpenTicket) -> None:
    alice, bob = take_agents(2)
    conversation_id = await open_ticket()
    base = f"/api/conversations/{conversation_id}"
    async with console(service.ws_url, alice.token) as alices, console(service.ws_url, bob.token) as bobs:
        await alices.expect(of_type("hello"))
        await bobs.expect(of_type("hello"))
        await api.as_agent(alice).post(f"{base}/claim")
        claimed = await alices.expect(of_type("event", event="ticket_claimed",
                                              conversation_id=conversation_id))
        assert [c["conversation_id"] for c in claimed["mine"]] == [conversation_id]

        await api.as_agent(alice).post(f"{base}/transfer", {"to_agent": bob.id})
        for live in (alices, bobs):
            moved = await live.expect(of_type("event", event="ticket_transferred",
                                              conversation_id=conversation_id))
            assert moved["data"] == {"from_agent": alice.id, "to_agent": bob.id}
        assert moved["mine"][0]["agent_id"] == bob.id

        status, _ = await api.as_agent(bob).post(f"{base}/resolve")
        assert status == 200
        resolved = await bobs.expect(of_type("event", event="ticket_resolved",
                                             conversation_id=conversation_id))
        assert resolved["mine"] == []


async def test_a_second_service_process_pushes_what_the_first_one_changed(
        start_service: StartService, http: aiohttp.ClientSession, take_agents: TakeAgents,
        open_ticket: OpenTicket, store: HandoffStore, service: ServiceProcess) -> None:
    other_process = start_service()
    watcher, owner = take_agents(2)
    conversation_id = await open_ticket()
    async with console(other_process.ws_url, watcher.token) as theirs, \
            console(other_process.ws_url, owner.token) as owners:
        await theirs.expect(of_type("hello"))
        await owners.expect(of_type("hello"))
        await Api(http, service.url, owner).post(f"/api/conversations/{conversation_id}/claim")
        await theirs.expect(lambda m: m["type"] == "queue" and queue_has(conversation_id, present=False)(m))
        await owners.expect(of_type("event", event="ticket_claimed", conversation_id=conversation_id))
        await store.append_message(conversation_id, INBOX, "cust-1", "customer", "hi")
        await owners.expect(of_type("message", conversation_id=conversation_id))


async def test_an_agent_can_send_over_the_socket(
        service: ServiceProcess, api: Api, take_agents: TakeAgents, open_ticket: OpenTicket,
        store: HandoffStore) -> None:
    owner, other = take_agents(2)
    conversation_id = await open_ticket()
    await api.as_agent(owner).post(f"/api/conversations/{conversation_id}/claim")
    message = {"type": "send", "conversation_id": conversation_id, "id": "ws-1", "text": "<b>on it</b>"}
    async with console(service.ws_url, owner.token) as mine, console(service.ws_url, other.token) as theirs:
        await mine.expect(of_type("hello"))
        await theirs.expect(of_type("hello"))
        await mine.send(message)
        sent = await mine.expect(of_type("sent", id="ws-1"))
        assert (sent["conversation_id"], sent["duplicate"]) == (conversation_id, False)
        await mine.send(message)
        retried = await mine.expect(of_type("sent", id="ws-1", duplicate=True))
        assert retried["stream_id"] == sent["stream_id"]
        await theirs.send({**message, "id": "ws-2"})
        assert (await theirs.expect(of_type("error", id="ws-2")))["status"] == 403
        await mine.send({**message, "id": "ws-3", "text": ""})
        assert (await mine.expect(of_type("error", id="ws-3")))["status"] == 400
    stored = await store.read_messages(conversation_id, "outbox")
    assert [(m.id, m.text, m.sender) for m in stored] == [("ws-1", "<b>on it</b>", owner.id)]


async def test_socket_sends_are_stored_in_the_order_they_were_sent(
        service: ServiceProcess, api: Api, take_agents: TakeAgents, open_ticket: OpenTicket,
        store: HandoffStore) -> None:
    (owner,) = take_agents(1)
    conversation_id = await open_ticket()
    await api.as_agent(owner).post(f"/api/conversations/{conversation_id}/claim")
    async with console(service.ws_url, owner.token) as mine:
        await mine.expect(of_type("hello"))
        for n in range(150):  # more than are stored at once
            await mine.send({"type": "send", "conversation_id": conversation_id, "id": f"burst-{n}", "text": str(n)})
        await mine.expect(of_type("sent", id="burst-149"))
    stored = await store.read_messages(conversation_id, "outbox", count=1000)
    assert [m.text for m in stored] == [str(n) for n in range(150)]
    assert [m.seq for m in stored] == sorted(m.seq for m in stored)
