"""`POST /api/erase` on the running service: leads only (401 without a token, 403 for an agent), a
dry run first, then no trace of the customer left in Redis and an audit record that names nobody;
a conversation an agent has now is refused unless forced."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from redis.asyncio import Redis

from handoff.erase.audit import read_records
from handoff.store import HandoffStore
from tests.agent_service.client import Api, KnownAgent
from tests.agent_service.conftest import OpenTicket, TakeAgents
from tests.customer_data import CustomerStores, seed_customer, traces
from tests.redis_server import RedisServer

pytestmark = pytest.mark.asyncio

RASA_PREFIX = "rasa"  # the service's rasa_key_prefix (its default)


@pytest_asyncio.fixture
async def raw_redis(redis_server: RedisServer) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_server.url, decode_responses=True)
    yield client
    await client.close()


@pytest_asyncio.fixture
async def stores(redis_server: RedisServer, store: HandoffStore) -> AsyncIterator[CustomerStores]:
    opened = CustomerStores.open(redis_server.url, store, RASA_PREFIX)
    yield opened
    await opened.close()


def new_id() -> str:
    return f"erase-{uuid.uuid4().hex[:12]}"


async def test_only_a_lead_may_erase(api: Api, take_agents: TakeAgents, lead: KnownAgent, stores: CustomerStores,
                                     raw_redis: Redis) -> None:
    (agent,) = take_agents(1)
    conversation_id = new_id()
    await seed_customer(stores, conversation_id, agent=agent.id)
    before = await traces(raw_redis, conversation_id)

    assert (await api.post("/api/erase", {"conversation_id": conversation_id}))[0] == 401
    status, body = await api.as_agent(agent).post("/api/erase", {"conversation_id": conversation_id})
    assert status == 403 and "lead" in body["error"]
    assert await traces(raw_redis, conversation_id) == before

    status, body = await api.as_agent(lead).post("/api/erase", {"conversation_id": conversation_id})
    assert status == 200, body
    assert await traces(raw_redis, conversation_id) == []


async def test_a_lead_erases_a_customer_by_email_after_a_dry_run(
        api: Api, take_agents: TakeAgents, lead: KnownAgent, stores: CustomerStores, raw_redis: Redis,
        key_prefix: str) -> None:
    (agent,) = take_agents(1)
    conversation_id, address = new_id(), f"erin.{uuid.uuid4().hex[:6]}@example.com"
    await seed_customer(stores, conversation_id, email=address, agent=agent.id)
    client = api.as_agent(lead)
    before = await traces(raw_redis, conversation_id, address)

    status, dry = await client.post("/api/erase", {"email": address.upper(), "dry_run": True})
    assert status == 200, dry
    assert (dry["dry_run"], dry["conversations"], dry["audit_id"]) == (True, [conversation_id], None)
    assert await traces(raw_redis, conversation_id, address) == before

    status, done = await client.post("/api/erase", {"email": address})
    assert status == 200, done
    assert {**dry, "dry_run": False, "audit_id": done["audit_id"]} == done
    assert done["keys"] > 15 and "tracker_events" in done["key_kinds"]
    assert await traces(raw_redis, conversation_id, address) == []
    records = dict(await read_records(raw_redis, key_prefix))
    record = records[done["audit_id"]]
    assert (record.by, record.subject_kind, record.subject_hash) == (lead.id, "email", done["subject_hash"])


async def test_a_conversation_an_agent_has_is_refused_unless_forced(
        api: Api, take_agents: TakeAgents, lead: KnownAgent, open_ticket: OpenTicket, raw_redis: Redis) -> None:
    (agent,) = take_agents(1)
    conversation_id = await open_ticket()
    agent_client, lead_client = api.as_agent(agent), api.as_agent(lead)
    assert (await agent_client.post(f"/api/conversations/{conversation_id}/claim"))[0] == 200

    status, body = await lead_client.post("/api/erase", {"conversation_id": conversation_id})
    assert (status, body["reason"], body["with_a_person"]) == (409, "with_a_person", [conversation_id])
    assert (await agent_client.get(f"/api/conversations/{conversation_id}"))[0] == 200

    status, body = await lead_client.post("/api/erase", {"conversation_id": conversation_id, "force": True})
    assert status == 200, body
    assert body["with_a_person"] == [conversation_id]
    assert (await agent_client.get(f"/api/conversations/{conversation_id}"))[0] == 404
    assert (await agent_client.get("/api/conversations/mine"))[1]["conversations"] == []
    assert await traces(raw_redis, conversation_id) == []


@pytest.mark.parametrize("body", [
    {}, {"conversation_id": "c-1", "email": "a@example.com"}, {"email": "not an address"},
    {"slack_user": "U123"}, {"conversation_id": 5}, {"conversation_id": "c-1", "dry_run": "yes"},
    {"conversation_id": "c-1", "force": 1}])
async def test_a_malformed_request_is_refused(api: Api, lead: KnownAgent, body: dict[str, object]) -> None:
    status, answer = await api.as_agent(lead).post("/api/erase", body)
    assert status == 400 and answer["error"]
