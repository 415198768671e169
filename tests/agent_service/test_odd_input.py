"""Odd input the agent API once answered with a 500 (or, on the console WebSocket, never answered):
each now gets a 4xx with a clear message, and the service stays usable."""

from __future__ import annotations

import uuid

import pytest

from handoff.store import HandoffStore
from tests.agent_service.client import Api, KnownAgent, console, of_type
from tests.agent_service.conftest import OpenTicket, TakeAgents
from tests.agent_service.service_process import ServiceProcess
from tests.odd_input import LogWatch

pytestmark = pytest.mark.asyncio

LONE_SURROGATE = "\ud800"
NESTED_TOO_DEEP = b"[" * 100_000 + b"]" * 100_000


async def claimed_by_new_agent(api: Api, take_agents: TakeAgents, open_ticket: OpenTicket) -> tuple[Api, str]:
    (agent,) = take_agents(1)
    client = api.as_agent(agent)
    conversation_id = await open_ticket()
    assert (await client.post(f"/api/conversations/{conversation_id}/claim"))[0] == 200
    return client, conversation_id


@pytest.mark.parametrize("params, refused", [
    ({"limit": "²"}, "query 'limit' must be a whole number within 1..1000"),
    ({"limit": "٣"}, "query 'limit' must be a whole number within 1..1000"),
    ({"after": "0-0\n"}, "query 'after' must be a stream id"),
    ({"after": "99999999999999999999-0"}, "query 'after' must be a stream id"),
    ({"after": "0-18446744073709551616"}, "query 'after' must be a stream id"),
])
async def test_odd_catch_up_queries_are_refused(
        api: Api, take_agents: TakeAgents, open_ticket: OpenTicket, params: dict[str, str], refused: str) -> None:
    client, conversation_id = await claimed_by_new_agent(api, take_agents, open_ticket)
    status, body = await client.get(f"/api/conversations/{conversation_id}/messages", params=params)
    assert status == 400 and body["error"].startswith(refused)


async def test_the_largest_stream_id_redis_takes_is_accepted(
        api: Api, take_agents: TakeAgents, open_ticket: OpenTicket) -> None:
    client, conversation_id = await claimed_by_new_agent(api, take_agents, open_ticket)
    largest = "18446744073709551615-18446744073709551615"
    status, body = await client.get(f"/api/conversations/{conversation_id}/messages", params={"after": largest})
    assert (status, body["messages"], body["last_id"]) == (200, [], largest)


async def test_a_lone_surrogate_in_an_agent_message_is_refused(
        service: ServiceProcess, api: Api, take_agents: TakeAgents, open_ticket: OpenTicket,
        store: HandoffStore) -> None:
    logs = LogWatch(service.log_file)
    client, conversation_id = await claimed_by_new_agent(api, take_agents, open_ticket)
    status, body = await client.post(f"/api/conversations/{conversation_id}/messages",
                                     {"id": "m-1", "text": f"refund {LONE_SURROGATE} done"})
    assert status == 400 and body["error"].startswith("field 'text' must be valid UTF-8 text")
    assert await store.read_messages(conversation_id, "outbox") == []
    logs.assert_no_traceback()


async def test_a_console_send_with_a_lone_surrogate_is_answered_with_an_error(
        service: ServiceProcess, api: Api, take_agents: TakeAgents, open_ticket: OpenTicket) -> None:
    logs = LogWatch(service.log_file)
    client, conversation_id = await claimed_by_new_agent(api, take_agents, open_ticket)
    assert client.agent is not None
    async with console(service.ws_url, client.agent.token) as live:
        await live.expect(of_type("hello"))
        await live.send({"type": "send", "conversation_id": conversation_id, "id": "m-1", "text": LONE_SURROGATE})
        refused = await live.expect(of_type("error", id="m-1"))
        assert refused["status"] == 400 and "valid UTF-8 text" in refused["error"]
        await live.send({"type": "send", "conversation_id": f"c-{LONE_SURROGATE}", "id": "m-2", "text": "hi"})
        refused = await live.expect(of_type("error", id="m-2"))
        assert refused["status"] == 400 and refused["error"].startswith("the conversation id must be valid UTF-8")
        await live.send({"type": "send", "conversation_id": conversation_id, "id": "m-3", "text": "hello"})
        assert (await live.expect(of_type("sent", id="m-3")))["duplicate"] is False
    logs.assert_no_traceback()


async def test_a_message_id_with_a_trailing_newline_is_refused(
        api: Api, take_agents: TakeAgents, open_ticket: OpenTicket) -> None:
    client, conversation_id = await claimed_by_new_agent(api, take_agents, open_ticket)
    status, body = await client.post(f"/api/conversations/{conversation_id}/messages", {"id": "m-1\n", "text": "hi"})
    assert status == 400 and body["error"].startswith("field 'id' must be 1-128 letters")


async def test_json_nested_too_deep_is_refused(
        service: ServiceProcess, api: Api, take_agents: TakeAgents, open_ticket: OpenTicket) -> None:
    logs = LogWatch(service.log_file)
    client, conversation_id = await claimed_by_new_agent(api, take_agents, open_ticket)
    status, body = await client.call("POST", f"/api/conversations/{conversation_id}/messages", raw=NESTED_TOO_DEEP)
    assert (status, body) == (400, {"error": "request body is nested too deeply"})
    logs.assert_no_traceback()


async def test_odd_slots_and_erase_subjects_are_refused(
        api: Api, take_agents: TakeAgents, open_ticket: OpenTicket, lead: KnownAgent) -> None:
    client, conversation_id = await claimed_by_new_agent(api, take_agents, open_ticket)
    status, body = await client.post(f"/api/conversations/{conversation_id}/resolve",
                                     {"slots": {"order_id": LONE_SURROGATE}})
    assert status == 400 and body["error"].startswith("field 'slots' must be valid UTF-8 text")
    lead_client = api.as_agent(lead)
    status, body = await lead_client.post("/api/erase", {"email": f"{LONE_SURROGATE}@example.com",
                                                         "dry_run": True})
    assert status == 400 and "must be valid UTF-8 text" in body["error"]
    status, _ = await lead_client.post("/api/erase", {"conversation_id": f"c-{uuid.uuid4().hex}", "dry_run": True})
    assert status == 200
