"""Agent messages: acknowledged once stored, retries not doubled, limits, notes, typing, catch-up."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

import pytest

from handoff.models import INBOX, OUTBOX
from handoff.store import HandoffStore
from tests.agent_service.client import Api
from tests.agent_service.conftest import OpenTicket, TakeAgents

pytestmark = pytest.mark.asyncio


Claimed = Callable[[], Awaitable[tuple[Api, str]]]


@pytest.fixture
def claimed(api: Api, take_agents: TakeAgents, open_ticket: OpenTicket) -> Claimed:
    """A conversation claimed by a fresh agent: (client of that agent, conversation id)."""

    async def claim() -> tuple[Api, str]:
        (agent,) = take_agents(1)
        client = api.as_agent(agent)
        conversation_id = await open_ticket()
        status, _ = await client.post(f"/api/conversations/{conversation_id}/claim")
        assert status == 200
        return client, conversation_id

    return claim


async def test_a_message_is_stored_and_a_retry_returns_the_same_entry(
        claimed: Claimed, store: HandoffStore) -> None:
    client, conversation_id = await claimed()
    path = f"/api/conversations/{conversation_id}/messages"
    message = {"id": str(uuid.uuid4()), "text": "Hi, I'm looking at your refund now."}
    status, first = await client.post(path, message)
    assert (status, first["duplicate"]) == (201, False)
    status, retry = await client.post(path, message)
    assert (status, retry["duplicate"], retry["stream_id"]) == (200, True, first["stream_id"])
    (stored,) = await store.read_messages(conversation_id, OUTBOX)
    assert (stored.id, stored.text, stored.kind, stored.sender) == (
        message["id"], message["text"], "text", client.agent.id)
    assert stored.extra == {"agent_name": client.agent.name}
    assert stored.stream_id == first["stream_id"]


async def test_only_the_owner_may_send_or_type(
        claimed: Claimed, api: Api, take_agents: TakeAgents, open_ticket: OpenTicket, store: HandoffStore) -> None:
    owner, conversation_id = await claimed()
    (other_agent,) = take_agents(1)
    other = api.as_agent(other_agent)
    message = {"id": "m-1", "text": "let me take over"}
    assert (await other.post(f"/api/conversations/{conversation_id}/messages", message))[0] == 403
    assert (await other.post(f"/api/conversations/{conversation_id}/typing", {"typing": True}))[0] == 403
    assert (await owner.post("/api/conversations/c-never-seen/messages", message))[0] == 404
    waiting = await open_ticket()
    assert (await owner.post(f"/api/conversations/{waiting}/messages", message))[0] == 409
    assert await store.read_messages(conversation_id, OUTBOX) == []
    assert await store.read_messages(waiting, OUTBOX) == []


async def test_html_is_kept_verbatim(claimed: Claimed, store: HandoffStore) -> None:
    client, conversation_id = await claimed()
    text = '<script>alert("x")</script> & <b>bold</b> \u00e9\u2603'
    path = f"/api/conversations/{conversation_id}/messages"
    status, _ = await client.post(path, {"id": "html-1", "text": text})
    assert status == 201
    assert [m.text for m in await store.read_messages(conversation_id, OUTBOX)] == [text]
    _, body = await client.get(f"/api/conversations/{conversation_id}")
    assert body["messages"][-1]["text"] == text


async def test_a_message_over_the_byte_limit_is_413(claimed: Claimed, store: HandoffStore) -> None:
    client, conversation_id = await claimed()
    path = f"/api/conversations/{conversation_id}/messages"
    status, body = await client.post(path, {"id": "big", "text": "\u00e9" * 2049})  # 4098 bytes in UTF-8
    assert status == 413
    assert "4096" in body["error"]
    assert (await client.post(path, {"id": "fits", "text": "x" * 4096}))[0] == 201
    assert [m.id for m in await store.read_messages(conversation_id, OUTBOX)] == ["fits"]


@pytest.mark.parametrize("body", [{"text": "no id"}, {"id": "m", "text": ""}, {"id": "m", "text": 5},
                                  {"id": "has space", "text": "x"},
                                  {"id": "m", "text": "x", "kind": "system"}])
async def test_invalid_messages_are_400(claimed: Claimed, body: dict) -> None:
    client, conversation_id = await claimed()
    status, answer = await client.post(f"/api/conversations/{conversation_id}/messages", body)
    assert status == 400
    assert answer["error"]


async def test_notes_and_typing_go_to_the_outbox_with_their_kind(
        claimed: Claimed, store: HandoffStore) -> None:
    client, conversation_id = await claimed()
    base = f"/api/conversations/{conversation_id}"
    assert (await client.post(f"{base}/typing", {"typing": True}))[0] == 201
    note = {"id": "n1", "text": "VIP customer", "kind": "note"}
    assert (await client.post(f"{base}/messages", note))[0] == 201
    assert (await client.post(f"{base}/typing", {"typing": "yes"}))[0] == 400
    stored = await store.read_messages(conversation_id, OUTBOX)
    assert [(m.kind, m.extra.get("typing")) for m in stored] == [("typing", True), ("note", None)]
    _, body = await client.get(base)
    assert [(m["kind"], m["text"]) for m in body["messages"]] == [("note", "VIP customer")]


async def test_catch_up_returns_customer_messages_after_a_stream_id(
        claimed: Claimed, store: HandoffStore) -> None:
    client, conversation_id = await claimed()
    written = [await store.append_message(conversation_id, INBOX, f"cust-{n}", "customer", f"message {n}")
               for n in range(5)]
    await store.append_message(conversation_id, INBOX, "cust-typing", "customer", "", "typing")
    path = f"/api/conversations/{conversation_id}/messages"
    status, body = await client.get(path, params={"after": written[1].stream_id})
    assert status == 200
    assert [m["text"] for m in body["messages"]] == ["message 2", "message 3", "message 4"]
    assert body["more"] is False

    _, page = await client.get(path, params={"limit": "2"})
    assert ([m["id"] for m in page["messages"]], page["more"]) == (["cust-0", "cust-1"], True)
    _, rest = await client.get(path, params={"after": page["last_id"], "limit": "2"})
    assert [m["id"] for m in rest["messages"]] == ["cust-2", "cust-3"]

    await client.post(path, {"id": "agent-1", "text": "hello"})
    _, mine = await client.get(path, params={"direction": "outbox"})
    assert [m["id"] for m in mine["messages"]] == ["agent-1"]
    for bad in ({"after": "yesterday"}, {"direction": "sideways"}, {"limit": "0"}, {"limit": "many"}):
        assert (await client.get(path, params=bad))[0] == 400
