"""The service under failure: Redis going away and coming back, and the service itself killed with
SIGKILL in the middle of a conversation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from handoff.models import INBOX, OUTBOX
from handoff.store import HandoffStore, StoreConfig
from tests.agent_service.client import Api, console, of_type, poll, queue_has
from tests.agent_service.conftest import StartService, TakeAgents, hand_off
from tests.redis_server import RedisServer

pytestmark = pytest.mark.asyncio


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server of this test alone, which it may stop and start again."""
    server = RedisServer(tmp_path / "redis")
    server.start()
    yield server
    server.stop()


async def test_redis_outage_is_503_json_and_the_service_recovers(
        start_service: StartService, http: aiohttp.ClientSession, take_agents: TakeAgents,
        own_redis: RedisServer, key_prefix: str) -> None:
    service = start_service(redis_url=own_redis.url)
    watcher, agent = take_agents(2)
    client = Api(http, service.url, agent)
    assert (await client.get("/api/queue"))[0] == 200

    own_redis.stop()
    for method, path in [("GET", "/api/queue"), ("GET", "/api/conversations/mine"), ("POST", "/api/login"),
                         ("POST", "/api/conversations/c-x/claim"), ("GET", "/api/agents")]:
        status, body = await client.call(method, path)
        if path == "/api/login":
            assert status == 200  # needs no Redis
            continue
        assert status == 503, (path, body)
        assert "Redis" in body["error"]
    assert await client.get("/health") == (200, {"status": "ok", "redis": False})

    own_redis.start()

    async def queue_answers() -> bool:
        return (await client.get("/api/queue"))[0] == 200

    await poll(queue_answers)
    async with HandoffStore(own_redis.url, StoreConfig(prefix=key_prefix)) as store, \
            console(service.ws_url, watcher.token) as live:
        await live.expect(of_type("hello"))
        conversation_id = await hand_off(store)  # the event tail must be following Redis again
        await live.expect(queue_has(conversation_id), timeout=15)
        status, _ = await client.post(f"/api/conversations/{conversation_id}/claim")
        assert status == 200


async def test_sigkill_mid_conversation_loses_and_doubles_nothing(
        start_service: StartService, http: aiohttp.ClientSession, take_agents: TakeAgents,
        store: HandoffStore) -> None:
    service = start_service()
    (agent,) = take_agents(1)
    client = Api(http, service.url, agent)
    conversation_id = await hand_off(store)
    base = f"/api/conversations/{conversation_id}"
    assert (await client.post(f"{base}/claim"))[0] == 200

    acknowledged = {}
    for n in range(5):
        await store.append_message(conversation_id, INBOX, f"cust-{n}", "customer", f"customer {n}")
        status, body = await client.post(f"{base}/messages", {"id": f"agent-{n}", "text": f"agent {n}"})
        assert status == 201
        acknowledged[f"agent-{n}"] = body["stream_id"]

    service.kill()
    await store.append_message(conversation_id, INBOX, "cust-down", "customer", "hello? (while it is down)")
    service.start()

    # The console did not see the last answer before the crash, so it sends the same message again.
    status, retry = await client.post(f"{base}/messages", {"id": "agent-4", "text": "agent 4"})
    assert (status, retry["duplicate"], retry["stream_id"]) == (200, True, acknowledged["agent-4"])
    assert (await client.post(f"{base}/messages", {"id": "agent-5", "text": "agent 5"}))[0] == 201

    outbox = await store.read_messages(conversation_id, OUTBOX)
    assert [m.id for m in outbox] == [f"agent-{n}" for n in range(6)]
    assert {m.id: m.stream_id for m in outbox if m.id in acknowledged} == acknowledged
    _, conversation = await client.get(base)
    assert conversation["state"]["agent_id"] == agent.id
    texts = [m["text"] for m in conversation["messages"]]
    assert len(texts) == len(set(texts)) == 12
    _, caught_up = await client.get(f"{base}/messages", params={"after": "0-0"})
    assert [m["id"] for m in caught_up["messages"]][-1] == "cust-down"
