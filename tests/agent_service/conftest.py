"""Fixtures: one real redis-server and one real agent-service process for the session (tests keep
apart by using their own conversations and agents), a recording stand-in for Rasa, and helpers to
start extra service processes for crash and outage tests."""

from __future__ import annotations

import itertools
import json
import secrets
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from handoff.agent_service.agents import LEAD_ROLE, new_token, write_agents
from handoff.agent_service.side_store import ServiceStore
from handoff.store import HandoffStore, StoreConfig
from handoff.store_scripts import Keys
from tests.agent_service.client import Api, KnownAgent
from tests.agent_service.fake_rasa import FakeRasa
from tests.agent_service.service_process import ServiceProcess
from tests.redis_server import RedisServer

# Every test takes its own agents (a fresh id per test keeps them from sharing state); raise the
# pool when tests are added.
AGENT_POOL_SIZE = 120
MAX_CONCURRENT_CHATS = 3
METRICS_TOKEN = "metrics-token-0123456789"  # the token Prometheus would scrape /metrics with
# The console's resolve field as an assistant configures it (the repository's demo shop page is served too).
RESOLVE_FIELD = {"label": "Verified booking <ref>", "slots": ["booking_ref", "verified_booking"],
                 "pattern": "BK-[0-9]{4}", "placeholder": "BK-1234"}

# Types of the fixtures below, for the tests' signatures.
TakeAgents = Callable[[int], list[KnownAgent]]
AgentPool = tuple[Path, list[KnownAgent]]
OpenTicket = Callable[..., Awaitable[str]]
StartService = Callable[..., ServiceProcess]
OwnKeys = tuple[str, HandoffStore, ServiceStore]


@pytest.fixture(scope="session")
def key_prefix() -> str:
    return f"agentsvc-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
def agent_pool(tmp_path_factory: pytest.TempPathFactory, lead: KnownAgent) -> AgentPool:
    """An agents file with many agents, so each test can have agents nobody else touches (and the lead,
    whom only tests of roles use)."""
    agents = [KnownAgent(f"a{index:02d}", f"Agent {index:02d}", new_token()) for index in range(AGENT_POOL_SIZE)]
    path = tmp_path_factory.mktemp("agents") / "agents.yml"
    write_agents(path, [agent.stored() for agent in [*agents, lead]])
    return path, agents


@pytest.fixture(scope="session")
def lead() -> KnownAgent:
    """The one agent of the pool's file with the lead role; it holds no chats (tests of roles use it)."""
    return KnownAgent("lead1", "Lead One", new_token(), LEAD_ROLE)


@pytest.fixture(scope="session")
def _agent_counter() -> Iterator[int]:
    return itertools.count()


@pytest.fixture
def take_agents(agent_pool: AgentPool, _agent_counter: Iterator[int]) -> TakeAgents:
    """Hands out agents no other test has used."""
    return lambda count: [agent_pool[1][next(_agent_counter)] for _ in range(count)]


@pytest.fixture(scope="session")
def fake_rasa() -> Iterator[FakeRasa]:
    rasa = FakeRasa(secrets.token_urlsafe(32)).start()
    yield rasa
    rasa.stop()


@pytest.fixture(scope="session")
def service_settings(redis_server: RedisServer, agent_pool: AgentPool, key_prefix: str,
                     fake_rasa: FakeRasa) -> dict[str, str]:
    return {"redis_url": redis_server.url, "agents_file": str(agent_pool[0]), "key_prefix": key_prefix,
            "rasa_url": fake_rasa.url, "rasa_jwt_secret": fake_rasa.jwt_secret,
            "max_concurrent_chats": str(MAX_CONCURRENT_CHATS),
            "rasa_sync_retry_seconds": "0.2", "demo_page_dir": "shop", "widget_storage_key": "testChat",
            "metrics_token": METRICS_TOKEN,
            "console_resolve_field": json.dumps(RESOLVE_FIELD)}


@pytest.fixture(scope="session")
def service(tmp_path_factory: pytest.TempPathFactory,
            service_settings: dict[str, str]) -> Iterator[ServiceProcess]:
    process = ServiceProcess(tmp_path_factory.mktemp("service"), service_settings).start()
    yield process
    process.stop()


@pytest.fixture
def start_service(tmp_path: Path, service_settings: dict[str, str]) -> Iterator[StartService]:
    """Starts extra service processes (same settings unless overridden, None leaves one unset); stops
    them after the test."""
    started: list[ServiceProcess] = []

    def start(**overrides: Any) -> ServiceProcess:
        settings = {name: value for name, value in {**service_settings, **overrides}.items() if value is not None}
        process = ServiceProcess(tmp_path, settings)
        started.append(process)
        return process.start()

    yield start
    for process in started:
        process.stop()


@pytest_asyncio.fixture
async def store(redis_server: RedisServer, key_prefix: str) -> AsyncIterator[HandoffStore]:
    """The store the service uses (same Redis, same prefix), for seeding and checking."""
    async with HandoffStore(redis_server.url, StoreConfig(prefix=key_prefix)) as handoff_store:
        yield handoff_store


@pytest_asyncio.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15)) as session:
        yield session


@pytest_asyncio.fixture
async def api(http: aiohttp.ClientSession, service: ServiceProcess) -> Api:
    """Anonymous client of the session's service; `api.as_agent(agent)` for an agent's."""
    return Api(http, service.url)


def new_conversation_id() -> str:
    return f"c-{uuid.uuid4().hex[:12]}"


TICKET = {"reason": "explicit_request", "frustration": 0.4, "summary": "Customer asks about a late refund",
          "intents": [{"intent": "request_human", "confidence": 0.97}], "slots": {"order_id": "A-1"},
          "transcript": [{"sender": "user", "text": "where is my refund"},
                         {"sender": "bot", "text": "Refunds take 5 days."}]}


async def hand_off(store: HandoffStore, priority: int = 3, channel: str = "rest", **ticket: Any) -> str:
    """Hands a new conversation off (as the bot's action would) and returns its id."""
    conversation_id = new_conversation_id()
    result = await store.request_handoff(conversation_id, {**TICKET, **ticket}, priority, channel)
    assert result.ok, result
    return conversation_id


@pytest.fixture
def open_ticket(store: HandoffStore) -> OpenTicket:
    """`hand_off` on the session service's store."""
    return lambda **options: hand_off(store, **options)


@pytest_asyncio.fixture
async def own_keys(redis_server: RedisServer) -> AsyncIterator[OwnKeys]:
    """A key prefix no other service process uses, with a store and a service store on it: for
    tests whose background work (e.g. sync retries) another process must not take over."""
    prefix = f"agentsvc-own-{uuid.uuid4().hex[:8]}"
    side = ServiceStore(redis_server.url, Keys(prefix), retention_seconds=StoreConfig().retention_seconds)
    async with HandoffStore(redis_server.url, StoreConfig(prefix=prefix)) as handoff_store:
        yield prefix, handoff_store, side
    await side.close()
