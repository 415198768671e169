"""What the agent console and the widget need from the agent service: canned replies, the pages
with their security headers, agent names for customers, and the ticket kept with its rating after
a resolve."""

from __future__ import annotations

import html
import json
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from handoff.agent_service.canned import load_canned_replies
from handoff.care_store import CareStore
from handoff.store_scripts import Keys
from tests.agent_service.client import Api
from tests.agent_service.conftest import RESOLVE_FIELD, OpenTicket, StartService, TakeAgents
from tests.agent_service.fake_rasa import FakeRasa
from tests.agent_service.service_process import REPO_ROOT
from tests.redis_server import RedisServer

pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture
async def care(redis_server: RedisServer, key_prefix: str) -> AsyncIterator[CareStore]:
    care_store = CareStore(redis_server.url, Keys(key_prefix))
    yield care_store
    await care_store.close()


async def test_canned_replies_come_from_the_file_and_need_a_token(api: Api, take_agents: TakeAgents) -> None:
    (agent,) = take_agents(1)
    assert (await api.get("/api/canned-replies"))[0] == 401
    status, body = await api.as_agent(agent).get("/api/canned-replies")
    assert status == 200
    expected = load_canned_replies(REPO_ROOT / "canned_replies.yml")
    assert expected, "the repository ships canned replies"
    assert body["canned_replies"] == [{"id": r.id, "title": r.title, "text": r.text} for r in expected]


@pytest.mark.parametrize("path", ["/console", "/shop"])
async def test_pages_are_public_and_allow_only_our_own_scripts(api: Api, fake_rasa: FakeRasa, path: str) -> None:
    async with api.session.get(api.base_url + path) as response:
        assert response.status == 200
        assert response.content_type == "text/html"
        policy = response.headers["Content-Security-Policy"]
        page = await response.text()
    assert "script-src 'self';" in policy and "default-src 'none'" in policy
    assert "unsafe-inline" not in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    if path == "/shop":
        chat_origin = fake_rasa.url.rstrip("/")
        assert f'<meta name="chat-server" content="{chat_origin}">' in page
        assert '<meta name="chat-storage-key" content="testChat">' in page
        assert chat_origin in policy and chat_origin.replace("http://", "ws://") in policy
    else:
        field = html.escape(json.dumps(RESOLVE_FIELD), quote=True)
        assert f'<meta name="resolve-field" content="{field}">' in page
        assert "KL-" not in page and "order" not in page


async def test_the_demo_page_and_its_assets_come_from_its_folder_only_when_configured(
        api: Api, start_service: StartService) -> None:
    async with api.session.get(f"{api.base_url}/shop/shop.css") as response:
        assert (response.status, response.content_type) == (200, "text/css")
    for name in ["index.html", "..%2Fcanned_replies.yml", "missing.css"]:
        async with api.session.get(f"{api.base_url}/shop/{name}") as response:
            assert response.status == 404, name
    bare = start_service(demo_page_dir=None, console_resolve_field=None)
    async with api.session.get(f"{bare.url}/shop") as response:
        assert response.status == 404
    async with api.session.get(f"{bare.url}/console") as response:
        assert '<meta name="resolve-field" content="null">' in await response.text()


async def test_assets_are_served_only_from_the_list(api: Api) -> None:
    for name, content_type in [("console.js", "text/javascript"), ("widget.css", "text/css")]:
        async with api.session.get(f"{api.base_url}/static/{name}") as response:
            assert (response.status, response.content_type) == (200, content_type)
    for name in ["agents.yml", "..%2Fopenapi.yaml", "shop.css"]:
        async with api.session.get(f"{api.base_url}/static/{name}") as response:
            assert response.status == 404, name
    async with api.session.get(f"{api.base_url}/vendor/socket.io.min.js") as response:
        assert response.status == 200
        assert "io" in await response.text()
    async with api.session.get(f"{api.base_url}/", allow_redirects=False) as response:
        assert (response.status, response.headers["Location"]) == (302, "/console")


async def test_presence_makes_the_agent_name_known_to_customers(
        api: Api, take_agents: TakeAgents, care: CareStore) -> None:
    (agent,) = take_agents(1)
    assert (await api.as_agent(agent).post("/api/presence", {"status": "away"}))[0] == 200
    assert await care.agent_name(agent.id) == agent.name


async def test_resolve_keeps_the_ticket_and_the_customer_rates_it_once(
        api: Api, take_agents: TakeAgents, open_ticket: OpenTicket, care: CareStore) -> None:
    (agent,) = take_agents(1)
    client = api.as_agent(agent)
    conversation_id = await open_ticket(channel="socketio", reason="frustration")
    base = f"/api/conversations/{conversation_id}"
    assert (await client.post(f"{base}/claim"))[0] == 200
    assert not await care.rating_due(conversation_id)
    assert (await client.post(f"{base}/resolve", {}))[0] == 200

    assert await care.rating_due(conversation_id)
    (closed,) = (await client.get(base))[1]["closed_tickets"]
    assert (closed["agent_id"], closed["agent_name"], closed["satisfaction"]) == (agent.id, agent.name, None)
    assert closed["ticket"]["reason"] == "frustration"

    assert await care.rate(conversation_id, 5)
    assert not await care.rate(conversation_id, 1), "a handoff is rated once"
    (closed,) = (await client.get(base))[1]["closed_tickets"]
    assert closed["satisfaction"] == 5


async def test_a_refused_resolve_leaves_nothing_to_rate(
        api: Api, take_agents: TakeAgents, open_ticket: OpenTicket, care: CareStore) -> None:
    first, second = take_agents(2)
    conversation_id = await open_ticket()
    base = f"/api/conversations/{conversation_id}"
    assert (await api.as_agent(first).post(f"{base}/claim"))[0] == 200
    assert (await api.as_agent(second).post(f"{base}/resolve", {}))[0] == 403
    assert not await care.rating_due(conversation_id)
    assert (await api.as_agent(first).get(base))[1]["closed_tickets"] == []
